import { z } from 'zod';

export const retentionPolicySchema = z
  .object({
    maxAgeMs: z.number().int().min(0).optional(),
    maxEvents: z.number().int().min(0).optional(),
  })
  .strict();
