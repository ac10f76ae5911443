import { createServer, type RequestListener } from 'node:http';

/**
 * Runs a baseline or reference server as a benchmark child: listens on HOST:PORT (the
 * benchmark picks a free port), and stops on SIGTERM or SIGINT, cutting open connections.
 */
export function serveChild(listener: RequestListener): void {
  const server = createServer(listener);
  server.listen(Number(process.env.PORT ?? 0), process.env.HOST ?? '127.0.0.1');
  const stop = () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}
