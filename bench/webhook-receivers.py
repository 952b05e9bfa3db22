#!/usr/bin/env python3
"""Tiny HTTP/1.1 keep-alive receivers for bench/webhooks.sh: one asyncio process listening on N ports, answering
every POST with 204 and counting requests (so the receivers are not the bottleneck). Prints the ports, one a line,
then runs until killed; on SIGTERM prints the request count to stderr.
  webhook-receivers.py N"""
import asyncio, signal, socket, sys

count = 0

class Receiver(asyncio.Protocol):
    def connection_made(self, transport):
        self.transport, self.buffer, self.need = transport, b"", None

    def data_received(self, data):
        global count
        self.buffer += data
        while True:
            if self.need is None:
                end = self.buffer.find(b"\r\n\r\n")
                if end < 0:
                    return
                head = self.buffer[:end].lower()
                length = 0
                i = head.find(b"content-length:")
                if i >= 0:
                    length = int(head[i + 15:head.find(b"\r\n", i) if head.find(b"\r\n", i) > 0 else None].strip())
                self.need = end + 4 + length
            if len(self.buffer) < self.need:
                return
            self.buffer, self.need = self.buffer[self.need:], None
            count += 1
            self.transport.write(b"HTTP/1.1 204 No Content\r\n\r\n")

async def main(n):
    loop = asyncio.get_running_loop()
    servers = []
    for _ in range(n):
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        servers.append(await loop.create_server(Receiver, sock=sock, backlog=1024))
        print(sock.getsockname()[1], flush=True)
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    await stop.wait()
    print(f"receivers answered {count} requests", file=sys.stderr, flush=True)

asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 10))
