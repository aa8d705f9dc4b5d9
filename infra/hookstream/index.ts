/**
 * hookstream's Pulumi components: the platform (`Gateway`) and the declared routing
 * (`Source`, `Destination`, `Connection`) it compiles into the Worker's config.
 */
export { Gateway, type GatewayArgs, type GatewayDomain } from "./gateway.js";
export { Source, type SourceArgs } from "./source.js";
export {
  Destination, sinkPolicy,
  type AwsCredentials, type DestinationArgs, type EventBridgeDestinationArgs, type HttpDestinationArgs, type KafkaDestinationArgs,
  type PubsubDestinationArgs, type RabbitmqDestinationArgs, type S3DestinationArgs, type SinkInfo, type SqsDestinationArgs, type WebsocketDestinationArgs,
} from "./destination.js";
export { Connection, type ConnectionArgs } from "./connection.js";
export { readPlatformConfig, StackConfigError, type PlatformConfig } from "./stack-config.js";
export { compileDeclarations, type Compiled, type CompileInput, type ProjectDeclaration } from "./compile.js";
export type { FilterNode, FilterOp, FilterRule, Filters } from "../../worker/src/routing/filters.js";
export type { TemplateId } from "../../worker/src/providers/sources/templates.js";
