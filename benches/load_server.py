#!/usr/bin/env python3
"""One local HTTP server serving N RSS feeds for benches/load.sh (not a test).

GET /f/<n>.xml serves feed n. Each request of a feed returns its ITEMS most recent items; one
new item appears per request (guid = request number), so every poll cycle brings N new
articles and the rest are already seen, like a real news feed. With --new-per-poll 0 every
request serves the same items (a steady state: nothing new, the log stops growing). A few items name tracked actors
so extraction and alerting do real work. GET /stats answers the number of feed requests served.
Writes the port it bound to --port-file.
"""
import argparse
import threading
from email.utils import format_datetime
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

NAMES = ["Antony Blinken", "Najib Mikati", "Ayman Safadi", "Hakan Fidan", "Sameh Shoukry"]
FILLER = ("Officials described the discussions as frank and constructive. "
          "The ministry did not immediately respond to a request for comment. ") * 3


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--feeds", type=int, default=2000)
    ap.add_argument("--items", type=int, default=20)
    # 0 serves the same items on every poll: a steady state in which the log stops growing, to
    # tell memory that parley holds per cycle apart from the store's own growth.
    ap.add_argument("--new-per-poll", type=int, default=1)
    ap.add_argument("--port-file", required=True)
    args = ap.parse_args()
    lock = threading.Lock()
    counts = {}
    total = [0]
    base = datetime(2023, 11, 14, tzinfo=timezone.utc)

    def feed(n, polls):
        out = ['<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
               f'<title>Load {n}</title><link>https://load.example/{n}</link><description>d</description>']
        # Always ITEMS items, the newest numbered by this request: one new item per poll.
        for k in range(polls + args.items - 1, polls - 1, -1):
            a = NAMES[(n + k) % len(NAMES)]
            b = NAMES[(n + k + 1) % len(NAMES)]
            date = format_datetime(base + timedelta(minutes=k))
            text = f"{a} met {b} in Vienna on day {k}. {FILLER}" if k % 4 == 0 else FILLER
            out.append(f"<item><guid>feed{n}-item{k}</guid><title>Report {n}/{k}</title>"
                       f"<link>https://load.example/{n}/{k}</link><pubDate>{date}</pubDate>"
                       f"<description>{text}</description></item>")
        out.append("</channel></rss>")
        return "".join(out).encode()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):
            pass

        def do_GET(self):
            if self.path == "/stats":
                with lock:
                    body = str(total[0]).encode()
                ctype = "text/plain"
            elif self.path.startswith("/f/") and self.path.endswith(".xml"):
                n = int(self.path[3:-4])
                with lock:
                    polls = counts.get(n, 0)
                    counts[n] = polls + 1
                    total[0] += 1
                body = feed(n, polls * args.new_per_poll)
                ctype = "application/rss+xml"
            else:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    ThreadingHTTPServer.daemon_threads = True
    ThreadingHTTPServer.request_queue_size = 1024
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    with open(args.port_file, "w") as f:
        f.write(str(server.server_address[1]))
    server.serve_forever()


if __name__ == "__main__":
    main()
