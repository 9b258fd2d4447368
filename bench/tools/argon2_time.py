"""argon2_time.py [N]: median seconds of one argon2id hash, m=19456 KiB t=2 p=1, with argon2-cffi
(the reference C implementation, as used by the Flask peer), on one thread."""
import statistics
import sys
import time

from argon2 import PasswordHasher

n = int(sys.argv[1]) if len(sys.argv) > 1 else 20
ph = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1, hash_len=32, salt_len=16)
ph.hash("warm-up password")
times = []
for i in range(n):
    t = time.perf_counter()
    ph.hash(f"benchmark password {i}")
    times.append(time.perf_counter() - t)
print(f"{statistics.median(times):.6f}")
