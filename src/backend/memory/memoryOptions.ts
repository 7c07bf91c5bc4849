// The zod schema of MemoryBackend's options.
import { z } from 'zod';
import type { Clock } from '../../core/Clock.ts';

/** Validates `MemoryBackendOptions`. */
export const optionsSchema = z.object({
  clock: z
    .custom<Clock>(
      (v) => typeof v === 'object' && v !== null && typeof (v as Clock).now === 'function',
      'a Clock (an object with now())',
    )
    .optional(),
});
