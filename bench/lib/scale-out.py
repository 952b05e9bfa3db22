#!/usr/bin/env python3
"""The driver of bench/scale-out.sh: the production profile (scripts/stack run --api 2 --workers 2) under faults.

Through the proxy, with the admin account of the stack:
  - one webhook subscription to a local receiver, for every event type;
  - a CSV import of ROWS new products (one job);
  - IMAGES generated PNGs uploaded to products, ten a request (one job per image);
  - EVENTS product PATCHes from four client threads (one product.updated event each);
and while that runs, the worker holding the import is killed with SIGKILL once it has committed rows and started
again, then RabbitMQ is restarted. Then it checks, from PostgreSQL and the receiver, that every job completed exactly
once (the import on its second attempt, nothing dead, failed or left over), that the catalog is exactly the file,
every image is ready, every event has one delivery that succeeded and reached the receiver. Exits 1 on any failure;
prints a Markdown table row with the figures on success.
  scale-out.py STACK_DIR ROWS IMAGES EVENTS"""
import collections
import http.client
import json
import re
import struct
import subprocess
import sys
import threading
import time
import uuid
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

stack, rows, images, events = sys.argv[1], *map(int, sys.argv[2:5])
clients = 4
started = time.monotonic()


def say(message):
    print(f"[scale-out {time.monotonic() - started:6.1f} s] {message}", file=sys.stderr, flush=True)


def fail(message):
    say(f"FAILED: {message}")
    sys.exit(1)


env = dict(re.findall(r"^export (\w+)='(.*)'$", open(f"{stack}/env").read(), re.M))


def processes():
    table = {}
    for line in open(f"{stack}/processes"):
        name, role, pid, port, _ = line.split(maxsplit=4)
        table[name] = (role, int(pid), int(port))
    return table


proxy = processes()["proxy"][2]


def sql(query):
    out = subprocess.run(["psql", "-qtA", "-F", "|", "-v", "ON_ERROR_STOP=1", "-U", "postgres", env["DATABASE_URL"], "-c", query],
                         check=True, capture_output=True, text=True).stdout.strip()
    return [line.split("|") for line in out.splitlines()]


def scalar(query):
    return sql(query)[0][0]


class Client:
    """One keep-alive connection to the proxy."""

    def __init__(self, token=None):
        self.connection, self.token = http.client.HTTPConnection("127.0.0.1", proxy, timeout=120), token

    def send(self, method, path, body=None, content_type="application/json"):
        headers = {"Content-Type": content_type} if body is not None else {}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
        self.connection.request(method, path, body=body, headers=headers)
        response = self.connection.getresponse()
        text = response.read()
        return response.status, (json.loads(text) if text and response.getheader("Content-Type", "").find("json") >= 0 else text)

    def expect(self, status, method, path, body=None, content_type="application/json"):
        got, answer = self.send(method, path, body, content_type)
        if got != status:
            fail(f"{method} {path}: {got} (expected {status}): {answer}")
        return answer


# The receiver: every POST is answered 204 and its webhook-id counted.
received, received_lock = collections.Counter(), threading.Lock()


class Hook(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        with received_lock:
            received[self.headers["webhook-id"]] += 1
        self.send_response(204)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


class Receiver(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass  # a killed worker's connections reset; what was received is what counts


receiver = Receiver(("127.0.0.1", 0), Hook)
threading.Thread(target=receiver.serve_forever, daemon=True).start()

admin = Client()
token = admin.expect(200, "POST", "/api/auth/login", {"email": env["EMPORIUM_ADMIN_EMAIL"], "password": env["EMPORIUM_ADMIN_PASSWORD"]})["access_token"]
admin.token = token
admin.expect(201, "POST", "/api/webhooks", {"url": f"http://127.0.0.1:{receiver.server_address[1]}/hook", "event_types": ["*"]})
run = uuid.uuid4().hex[:8].upper()


def product(sku, name):
    return admin.expect(201, "POST", "/api/products", {"sku": sku, "name": name, "price": 10})["id"]


pictured = [product(f"PIC-{run}-{i}", f"Pictured {i}") for i in range((images + 9) // 10)]
edited = [product(f"EDIT-{run}-{i}", f"Edited {i}") for i in range(clients)]

prefix = f"SO-{run}"
csv = "sku,name,price\r\n" + "".join(f"{prefix}-{i},Product {i} of the scale-out check,{i % 100}.50\r\n" for i in range(rows))
job = admin.expect(202, "POST", "/api/products/upload", csv.encode(), "text/csv")["job_id"]
say(f"import job {job}: {rows} rows, {len(csv) / 1e6:.1f} MB")


def png(width, height, seed):
    """An RGB PNG with a gradient that differs by seed."""
    raw = b"".join(b"\x00" + bytes(v for x in range(width) for v in (x * 255 // width, y * 255 // height, (seed * 37 + x + y) % 256))
                   for y in range(height))

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw, 6)) + chunk(b"IEND", b""))


pictures = [png(640 + seed, 480 - seed, seed) for seed in range(10)]


errors = []


def upload_images():
    try:
        client, left = Client(token), images
        for n, product_id in enumerate(pictured):
            boundary = uuid.uuid4().hex
            body = b""
            for i in range(min(10, left)):
                body += (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"p{n}-{i}.png\"\r\n"
                         f"Content-Type: image/png\r\n\r\n").encode() + pictures[i] + b"\r\n"
            left -= min(10, left)
            client.expect(202, "POST", f"/api/products/{product_id}/images", body + f"--{boundary}--\r\n".encode(),
                          f"multipart/form-data; boundary={boundary}")
    except SystemExit as error:
        errors.append(error)


def edit(product_id, count):
    try:
        client = Client(token)
        for i in range(count):
            client.expect(200, "PATCH", f"/api/products/{product_id}", {"name": f"Edited {product_id} #{i + 1}"},
                          "application/merge-patch+json")
    except SystemExit as error:
        errors.append(error)


threads = [threading.Thread(target=upload_images)]
threads += [threading.Thread(target=edit, args=(product_id, events // clients + (1 if i < events % clients else 0)))
            for i, product_id in enumerate(edited)]
for thread in threads:
    thread.start()

# The fault: the worker holding the import dies once some batches are committed, and is started again.
deadline = time.monotonic() + 120
while True:
    status, owner, committed = sql(f"SELECT status, coalesce(lease_owner, ''), (SELECT count(*) FROM "
                                   f"(SELECT 1 FROM products WHERE sku LIKE '{prefix}-%' LIMIT 2000) AS p) FROM jobs WHERE id = {job}")[0]
    if status == "PROCESSING" and int(committed) > 0:
        break
    if status not in ("PENDING", "PROCESSING"):
        fail(f"the import is {status} before the worker could be killed; make it longer")
    if time.monotonic() > deadline:
        fail("the import did not start within 120 s")
    time.sleep(0.05)
pid = int(re.search(r":(\d+):[0-9a-f]{32}$", owner).group(1))
holder = next((name for name, (role, p, _) in processes().items() if p == pid), None) or fail(f"no stack process has pid {pid}")
say(f"SIGKILL to {holder} (pid {pid}), the import's holder, with {committed} or more of its rows committed")
subprocess.run(["scripts/stack", "restart", holder, "KILL"], check=True, stdout=subprocess.DEVNULL)
say(f"{holder} started again; restarting RabbitMQ")
subprocess.run(["scripts/stack", "restart", "rabbitmq"], check=True, stdout=subprocess.DEVNULL)
say("RabbitMQ is back")

for thread in threads:
    thread.join()
if errors:
    sys.exit(1)
say(f"clients done: {images} images uploaded, {events} PATCHes")

# Everything settles: no job left to run, every delivery decided, every event received.
deadline = time.monotonic() + 300 + rows / 1000
while True:
    open_jobs = int(scalar("SELECT count(*) FROM jobs WHERE status IN ('PENDING', 'PROCESSING')"))
    open_deliveries = int(scalar("SELECT count(*) FROM events e WHERE NOT EXISTS "
                                 "(SELECT 1 FROM webhook_deliveries d WHERE d.event_id = e.id AND d.status IN ('SUCCEEDED', 'FAILED'))"))
    if open_jobs == 0 and open_deliveries == 0:
        break
    if time.monotonic() > deadline:
        fail(f"not settled: {open_jobs} jobs to run, {open_deliveries} events without a decided delivery")
    time.sleep(0.5)
settled = time.monotonic()
say("settled; checking")

problems = []


def check(condition, message):
    if not condition:
        problems.append(message)


by_status = sql("SELECT kind, status, count(*) FROM jobs GROUP BY kind, status ORDER BY kind, status")
check(all(status == "COMPLETED" for _, status, _ in by_status), f"jobs not completed: {by_status}")
kinds = {kind: int(count) for kind, status, count in by_status if status == "COMPLETED"}
check(kinds.get("catalog.import") == 1, f"one import job: {kinds}")
check(kinds.get("image.process") == images, f"{images} image jobs: {kinds}")
import_status, attempts, seconds = sql(f"SELECT status, attempts, extract(epoch FROM finished_at - created_at) FROM jobs WHERE id = {job}")[0]
check(import_status == "COMPLETED" and attempts == "2", f"the import completes on its second attempt: {import_status}, {attempts} attempts")
loaded, right = map(int, sql(f"SELECT count(*), count(*) FILTER (WHERE name = 'Product ' || substr(sku, {len(prefix) + 2}) "
                             f"|| ' of the scale-out check') FROM products WHERE sku LIKE '{prefix}-%'")[0])
check(loaded == rows and right == rows, f"the catalog is the file: {loaded} products of {rows}, {right} with the right name")
ready = sql(f"SELECT status, count(*) FROM product_images WHERE product_id IN ({','.join(map(str, pictured))}) GROUP BY status")
check(ready == [["READY", str(images)]], f"every image ready: {ready}")
updated = int(scalar(f"SELECT count(*) FROM events WHERE type = 'product.updated' AND data LIKE '%EDIT-{run}-%'"))
check(updated == events, f"{events} product.updated events: {updated}")
event_ids = {row[0] for row in sql("SELECT event_id FROM events")}
deliveries = sql("SELECT status, count(*) FROM webhook_deliveries GROUP BY status")
check(deliveries == [["SUCCEEDED", str(len(event_ids))]], f"one succeeded delivery per event ({len(event_ids)}): {deliveries}")
with received_lock:
    missing = event_ids - received.keys()
    duplicates = sum(count - 1 for count in received.values())
check(not missing, f"{len(missing)} events never reached the receiver, e.g. {sorted(missing)[:3]}")
if problems:
    fail("\n  ".join(["the checks:"] + problems))

total = settled - started
say(f"passed: {rows} rows in {float(seconds):.1f} s, {images} images, {len(event_ids)} events delivered "
    f"({duplicates} repeated to the receiver, at least once by design), all settled {total:.0f} s after the start")
print("| rows | images | events delivered | import s (rows/s) | attempts | repeated deliveries | settled after s |")
print("|---:|---:|---:|---:|---:|---:|---:|")
print(f"| {rows} | {images} | {len(event_ids)} | {float(seconds):.1f} ({rows / float(seconds):,.0f}) | {attempts} | {duplicates} | {total:.0f} |")
