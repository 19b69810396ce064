/** Every route of the HTTP API lives under this path. */
export const API_BASE = '/api/v1';
