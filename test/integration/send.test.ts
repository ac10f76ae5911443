import { text } from 'node:stream/consumers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Relay } from '../../src/app.js';
import { sampleNames } from '../../src/ingest/samples.js';
import { sendSample } from '../../src/ingest/send-sample.js';
import { exited, runCli } from '../support/relay-process.js';
import { routeOfSample, secretEnv, startTestRelay, testSecrets } from '../support/relay.js';

async function cli(args: string[], env: Record<string, string>) {
  const child = runCli(args, env);
  const [stdout, stderr, code] = await Promise.all([text(child.stdout!), text(child.stderr!), exited(child)]);
  return { code, stdout, stderr };
}

describe('send', () => {
  let relay: Relay;
  beforeAll(async () => {
    relay = await startTestRelay();
  });
  afterAll(() => relay.close());

  for (const sample of sampleNames) {
    const source = routeOfSample[sample];
    it(`signs the ${sample} sample as ${source} does, and its second delivery is a duplicate`, async () => {
      const send = () => sendSample({ url: relay.url, source, sample, secret: testSecrets[source], nowMs: Date.now() });
      const first = await send();
      expect(first).toMatchObject({ status: 200, body: { received: true, duplicate: false } });
      expect(await send()).toEqual({ ...first, body: { ...(first.body as object), duplicate: true } });
    });
  }

  it('prints the relay answer and exits 0 from the command line, with the secret from the environment', async () => {
    const { code, stdout } = await cli(['send', 'github', 'github_issue', '--url', relay.url], secretEnv);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^200 \{"received":true,"id":"[0-9A-Z]{26}","duplicate":(true|false)\}\n$/);
  });

  it('exits 1 and prints the refusal when the relay refuses', async () => {
    const { code, stdout } = await cli(['send', 'stripe', 'refund', '--url', relay.url, '--secret', 'whsec_wrong'], {});
    expect(code).toBe(1);
    expect(stdout).toContain('401 {"error":"signature_mismatch"');
  });

  it('exits 2 with the sample list for an unknown sample', async () => {
    const { code, stderr } = await cli(['send', 'stripe', 'nope'], {});
    expect(code).toBe(2);
    expect(stderr).toContain('unknown sample "nope"; samples: payment_failed');
  });
});
