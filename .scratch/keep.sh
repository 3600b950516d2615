#!/bin/bash
# scratch: bring up N services in a temp home and leave them for inspection; prints home
set -e
N=${N:-50}
home=$(mktemp -d /tmp/hs-cpk-XXXX); dir=$(mktemp -d /tmp/hs-cpk-spec-XXXX)
echo "services:" > $dir/hotswap.yaml
port=31000
for i in $(seq 1 $N); do
cat >> $dir/hotswap.yaml <<E2
  svc$i:
    image: hotswap-nginx:test
    replicas: 1
    port: 8080
    listen: 127.0.0.1:$((port+i))
    health: { http: / }
    drain: { timeout: 1s }
    stopGracePeriod: 2s
E2
done
cd $dir && node /work/wt/scale12/bin/hotswap.js --home $home up >/dev/null
echo $home $dir
