// Public face of the topic connector: a Sluice backend topic as a connector source and sink.
/**
 * A Sluice backend topic behind the connector contract (source and sink), for code written
 * against `sluice/rabbitmq` or `sluice/nats` that should also run on Sluice's own log.
 * @packageDocumentation
 */
export {
  TopicConnectorSource,
  type TopicConnectorSourceOptions,
  topicConnectorSink,
  topicConnectorSource,
} from './TopicConnectorSource.ts';
