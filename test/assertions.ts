import { expect } from 'chai';

/** The error a database write rejects with; fails the test when the write goes through. */
export async function databaseRefusal(write: Promise<unknown>): Promise<{ code?: string; constraint?: string }> {
  try {
    await write;
  } catch (error) {
    return error as { code?: string; constraint?: string };
  }
  expect.fail('expected the database to refuse the write');
}
