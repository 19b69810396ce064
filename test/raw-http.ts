import { request } from 'node:http';

export type RawAnswer = { status: number; type: string | undefined; etag?: string; body: any };

/**
 * Sends exactly this method, path, headers and bytes to a local port, nothing added (no client
 * defaults such as chunked bodies); the answer's body as JSON when there is one.
 */
export function rawRequest(
  port: number,
  method: string,
  path: string,
  headers: Record<string, string | number> = {},
  body?: string | Buffer,
): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString();
        resolve({
          status: res.statusCode!,
          type: res.headers['content-type'],
          ...(res.headers.etag ? { etag: res.headers.etag } : {}),
          body: text ? JSON.parse(text) : undefined,
        });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}
