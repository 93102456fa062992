"""A stand-in child for the supervisor test: it just waits to be stopped."""

import time

if __name__ == "__main__":
    while True:
        time.sleep(60)
