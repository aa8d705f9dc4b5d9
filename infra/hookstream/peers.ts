/**
 * Local peers for `npm run dev` / compileLocally: when set, sinks a destination creates point at
 * them (moto for AWS, the Pub/Sub emulator for GCP) instead of the cloud. Never set by a deploy.
 */
export interface LocalPeers {
  /** moto (SQS / S3 / EventBridge), e.g. http://127.0.0.1:5000 */
  awsEndpoint?: string;
  /** the Pub/Sub emulator, e.g. http://127.0.0.1:8085 */
  pubsubEndpoint?: string;
}

let current: LocalPeers | undefined;

export function setLocalPeers(peers: LocalPeers | undefined): void {
  current = peers && (peers.awsEndpoint || peers.pubsubEndpoint) ? { ...peers } : undefined;
}

export function localPeers(): LocalPeers | undefined {
  return current;
}
