// Public exports of the RabbitMQ connector (`sluice/rabbitmq`).
/**
 * RabbitMQ connector: `import { rabbitSource, rabbitSink } from 'sluice/rabbitmq'`.
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
export { RabbitSink, type RabbitSinkOptions, rabbitSink } from './RabbitSink.ts';
export { type RabbitMessage, RabbitSource, type RabbitSourceOptions, rabbitSource } from './RabbitSource.ts';
