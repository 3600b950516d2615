// People arrive from Compose: a Compose key where hotswap has another name gets a pointed hint
// instead of a generic "unknown field".

const SERVICE_HINTS: Record<string, string> = {
  environment: 'hotswap calls it "env" (a mapping or a list of "NAME=value")',
  env_file: 'hotswap calls it "envFile"',
  healthcheck: 'hotswap calls it "health" (http: /path or tcp: true, interval, timeout)',
  deploy:
    'hotswap has no deploy section: write "replicas" on the service and the update policy under "strategy"',
  ports:
    'hotswap has no ports list: "port" is the port the app listens on in the container, "listen" the host:port the proxy serves it on',
  stop_grace_period: 'hotswap calls it "stopGracePeriod"',
  build: 'hotswap runs images; build one with docker build and name it in "image"',
  container_name: 'hotswap names containers itself (several run during an update)',
  restart: 'hotswap restarts instances that exit; there is no restart policy to set',
  entrypoint: 'use "command" to override what the container runs',
};

/** A hint for a Compose key at a path, if it is one. */
export function composeHint(parent: readonly PropertyKey[], key: string): string | undefined {
  const inService = parent.length === 2 && parent[0] === 'services';
  if (inService) return SERVICE_HINTS[key];
  if (parent.length === 0 && (key === 'version' || key === 'name'))
    return 'not needed in hotswap.yaml; remove it';
  if (parent.length === 0 && (key === 'networks' || key === 'volumes' || key === 'secrets'))
    return 'hotswap.yaml has only "services" at the top; volumes are written on each service';
  return undefined;
}
