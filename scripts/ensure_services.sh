#!/usr/bin/env bash
# Make sure Redis (127.0.0.1:6379) and RabbitMQ (127.0.0.1:5672, guest/guest)
# answer; start them if they do not. Fails loudly if they still don't.
set -uo pipefail
PATH="$PATH:/usr/sbin:/sbin"

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && exec 3>&- ; }

redis_ok() { redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null | grep -q PONG; }
if ! redis_ok; then
  echo "starting redis-server" >&2
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no
  for _ in $(seq 1 50); do redis_ok && break; sleep 0.2; done
fi
redis_ok || { echo "Redis does not answer on 127.0.0.1:6379" >&2; exit 1; }

if ! port_open 5672; then
  echo "starting rabbitmq-server" >&2
  rabbitmq-server -detached || true
  for _ in $(seq 1 120); do port_open 5672 && break; sleep 1; done
fi
port_open 5672 || { echo "RabbitMQ does not answer on 127.0.0.1:5672" >&2; exit 1; }
# The port opens before the broker accepts logins; wait until it does.
for _ in $(seq 1 60); do
  rabbitmq-diagnostics -q check_running >/dev/null 2>&1 && break
  sleep 1
done
echo "Redis and RabbitMQ answer" >&2
