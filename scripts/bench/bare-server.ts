import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';

/**
 * The reference for the read benchmark: a bare node:http server answering every GET with bytes
 * captured from the real API (the body for the path's first segment after /api/v1), as fast as this
 * machine serves JSON at all. Started as its own process by scripts/bench/reads.ts.
 */
const [bodiesFile, port] = [process.env.BARE_BODIES!, Number(process.env.BARE_PORT)];
const bodies = new Map(
  Object.entries(JSON.parse(readFileSync(bodiesFile, 'utf8')) as Record<string, string>).map(([kind, text]) => [
    kind,
    Buffer.from(text),
  ]),
);
createServer((req, res) => {
  const body = bodies.get(req.url?.includes('/seats') ? 'seatMap' : 'schedule')!;
  res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': body.length }).end(body);
})
  .listen(port, '127.0.0.1')
  .on('listening', () => console.error(`[bare] listening on ${port}`));
