// Public exports of partitioners and balancers.
/**
 * Partitioners (key → owning member) and balancers (stateless work → member).
 * @packageDocumentation
 */
export * from './assignmentStrategies.ts';
export * from './BoundedLoadConsistentHash.ts';
export * from './balancers/Balancer.ts';
export * from './balancers/balancerByName.ts';
export * from './balancers/broadcast.ts';
export * from './balancers/customBalancer.ts';
export * from './balancers/leastLoaded.ts';
export * from './balancers/roundRobin.ts';
export * from './balancers/sticky.ts';
export * from './balancers/weightedRoundRobin.ts';
export { ConsistentHash, DEFAULT_VNODES } from './ConsistentHash.ts';
export * from './consistentHashFactory.ts';
export type { StringHash } from './fastHash.ts';
export * from './hashSlot.ts';
export * from './jumpHash.ts';
export type { MemberSpec } from './members.ts';
export * from './moduloMd5.ts';
export * from './PartitionAssignment.ts';
export * from './Partitioner.ts';
export * from './rendezvous.ts';
