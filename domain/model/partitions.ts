/**
 * Orders are decided per partition, one drain at a time, first come first served; a showing always
 * maps to the same partition. Showing ids are sequential, so the remainder spreads showings evenly.
 */
export const partitionOf = (showingId: number, partitions: number) => showingId % partitions;
