#!/usr/bin/env python3
"""A CSV file in the Acme products.csv format, for the import benchmarks (issue 3).

Header name,sku,description; CRLF records; a bare LF inside 60% of the quoted descriptions; no final newline;
~6.7% of the rows repeat an earlier SKU, and half of all SKUs are upper-cased (upserts ignore case). Seeded, so
the same row count always gives the same file.
    bench/lib/acme-csv.py ROWS PATH
"""
import random
import sys

rows, path = int(sys.argv[1]), sys.argv[2]
random.seed(42)
first = ["Bryce", "Ava", "Liam", "Noah", "Mia", "Zoe", "Ezra", "Iris", "Omar", "Lena", "Hugo", "Nina"]
last = ["Jones", "Smith", "Brown", "Garcia", "Miller", "Davis", "Lopez", "Wilson", "Moore", "Clark"]
words = ("durable light bright quiet rapid gentle precise modern robust simple elegant compact "
         "natural hidden golden silent crafted").split()
distinct = int(rows * 0.9334)
with open(path, "w", newline="") as out:
    out.write("name,sku,description")
    for i in range(rows):
        n = i if i < distinct else random.randrange(distinct)  # ~7% repeat an earlier SKU
        sku = f"{['alpha', 'beta', 'gamma', 'delta'][n % 4]}-{n:07d}"
        if random.random() < 0.5:
            sku = sku.upper()  # upserts are case-insensitive
        text = " ".join(random.choice(words) for _ in range(random.randint(12, 30))).capitalize() + "."
        if random.random() < 0.6:
            text = text.replace(" ", "\n", 1)  # a bare LF inside the quoted field, as in the real file
        out.write(f'\r\n{random.choice(first)} {random.choice(last)},{sku},"{text}"')
