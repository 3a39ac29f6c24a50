"""The clients a user would otherwise pick, producing the same messages as kafka-workshop's
`produce --count N`: prints messages per second. Connecting and metadata come before the clock
starts, as they do in kafka-workshop's own figure. Usage: peers.py CLIENT BOOTSTRAP TOPIC COUNT SIZE"""
import asyncio
import sys
import time


def confluent(bootstrap, topic, count, value):
    from confluent_kafka import Producer

    producer = Producer({"bootstrap.servers": bootstrap, "acks": "all"})
    producer.list_topics(topic, timeout=10)
    failed = []

    def report(err, _msg):
        if err is not None:
            failed.append(err)

    start = time.perf_counter()
    for _ in range(count):
        while True:
            try:
                producer.produce(topic, value, on_delivery=report)
                break
            except BufferError:
                producer.poll(0.01)
        producer.poll(0)
    producer.flush(60)
    elapsed = time.perf_counter() - start
    if failed:
        raise SystemExit(f"{len(failed)} deliveries failed: {failed[0]}")
    return elapsed


async def aiokafka_run(bootstrap, topic, count, value):
    from aiokafka import AIOKafkaProducer

    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        await producer.partitions_for(topic)
        start = time.perf_counter()
        pending = []
        for _ in range(count):
            pending.append(await producer.send(topic, value))
            if len(pending) >= 10000:
                await asyncio.gather(*pending)
                pending.clear()
        await asyncio.gather(*pending)
        return time.perf_counter() - start
    finally:
        await producer.stop()


def main():
    client, bootstrap, topic, count, size = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
    value = b"x" * size
    if client == "confluent-kafka":
        elapsed = confluent(bootstrap, topic, count, value)
    elif client == "aiokafka":
        elapsed = asyncio.run(aiokafka_run(bootstrap, topic, count, value))
    else:
        raise SystemExit(f"unknown client {client}")
    print(f"{count / elapsed:.0f}")


if __name__ == "__main__":
    main()
