// Public exports of the NATS JetStream connector (`sluice/nats`).
/**
 * NATS JetStream connector: `import { natsSource, natsSink } from 'sluice/nats'`.
 * @packageDocumentation
 */
export type {
  ConnectorMessage,
  ConnectorSink,
  ConnectorSource,
  ConnectorState,
  ConnectorStats,
  KeySelector,
  OutgoingMessage,
  PublishReceipt,
} from '../contract.ts';
export { KEY_HEADER } from '../contract.ts';
export { NatsSink, type NatsSinkOptions, natsSink } from './NatsSink.ts';
export { type NatsMessage, NatsSource, natsSource } from './NatsSource.ts';
export type { NatsSourceOptions } from './options.ts';
