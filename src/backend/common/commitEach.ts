// commitMany as a loop of single commits, for backends whose commits cost no round trip (memory).
import { isSluiceError } from '../../core/errors.ts';
import type { Backend, CommitOutcome, CommitRequest, OpOptions } from '../Backend.ts';
import { checkName } from './args.ts';
import { checkCommitRequests } from './batchArgs.ts';

/** `Backend.commitMany` through `backend.commit`, one commit after the other; a `FENCED` refusal becomes `'fenced'`. */
export async function commitEach(
  backend: Backend,
  group: string,
  topic: string,
  commits: readonly CommitRequest[],
  options: OpOptions = {},
): Promise<CommitOutcome[]> {
  checkName('group', group);
  checkName('topic', topic);
  checkCommitRequests(commits);
  const out: CommitOutcome[] = [];
  for (const c of commits) {
    try {
      await backend.commit(group, topic, c.partition, c.offset, {
        ...(c.fence === undefined ? {} : { fence: c.fence }),
        ...(options.signal === undefined ? {} : { signal: options.signal }),
      });
      out.push('ok');
    } catch (e) {
      if (isSluiceError(e) && e.code === 'FENCED') out.push('fenced');
      else throw e;
    }
  }
  return out;
}
