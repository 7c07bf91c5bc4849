// Sorting of the topic and consumer-group listings, identical on every backend.
import type { GroupTopic } from '../Backend.ts';
import { compareCodePoints } from './order.ts';

/** Topic names in code-point order (the order of the SQL collations and Redis ranges). */
export function sortNames(names: Iterable<string>): string[] {
  return [...names].sort(compareCodePoints);
}

/** (group, topic) pairs sorted by group, then topic, in code-point order. */
export function sortGroups(pairs: Iterable<GroupTopic>): GroupTopic[] {
  return [...pairs].sort(
    (a, b) => compareCodePoints(a.group, b.group) || compareCodePoints(a.topic, b.topic),
  );
}
