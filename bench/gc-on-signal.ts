/**
 * Loaded into a server under measurement with `node --expose-gc --import ./bench/gc-on-signal.ts`:
 * SIGUSR2 runs a full garbage collection, so the `scale` benchmark reads resident memory
 * without the garbage that setting up thousands of connections leaves behind.
 */
process.on('SIGUSR2', () => (globalThis as { gc?: () => void }).gc?.());
