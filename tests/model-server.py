#!/usr/bin/python3
"""model-server.py - a scripted loopback server speaking Anthropic's Messages API and
OpenAI's Chat Completions, for codegend's tests.

Usage: model-server.py --port-file F --stats F --canned DIR [--script S.json] [--key K]
                       [--max-requests N] [--max-seconds T]

Listens on 127.0.0.1 on an ephemeral port (written to --port-file), answers
POST /v1/messages and POST /chat/completions (under any prefix, e.g. /v1). Each request's
atom is read from the prompt ("Atom `ID`", "Write `TARGET`"); the answer is the canned
file DIR/.atoms/ID, else DIR/TARGET, in a fenced block ("File: TARGET" before it). When several atoms share a
target, the first one to be answered gets the whole file and the others an empty part.

The script is {"steps": [STEP...]}; each request takes the first step whose "match" (an
atom id, or "*") fits and whose "times" (default 1) is not used up:
  {"status": 429, "headers": {...}, "error": "message", "type": "rate_limit_error"}
  {"kind": "slow", "delay": SECONDS}           answers normally after a delay (not at
                                                all, and counts nothing, when the client
                                                has closed the connection by then)
  {"kind": "malformed"}                         200 with a body that is not JSON
  {"kind": "cut"}                               the first half, stop max_tokens / length;
                                                a continuation request gets the rest
  {"kind": "outside"}                           the code under ../../outside.py only
  {"kind": "syntax"}                            the file with a syntax error appended
                                                (a repair request, "has syntax errors" in
                                                the prompt, gets the canned file)
  {"kind": "refusal"}                           stop_reason refusal / message.refusal
  {"kind": "noblock"}                           prose only, no code
  {"kind": "extra"}                             the file, then another one (not asked for)
  {"kind": "slowok", "delay": SECONDS}          answers normally after a delay (for
                                                measuring concurrency: max_inflight)
Token counts are the server's own (bytes / 4, at least 1): input, output, cache
creation (the first time a system prefix is seen) and cache read (later); every 200
reply reports its usage, and the totals are written to --stats (JSON) after each reply,
with the requests' count, statuses and the request bodies' token parameter names.
A wrong or missing key (when --key is given) gets 401. Exits after --max-requests
requests or --max-seconds seconds.
"""
import argparse, json, os, re, socket, sys, threading, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ap = argparse.ArgumentParser()
ap.add_argument("--port-file", required=True)
ap.add_argument("--stats", required=True)
ap.add_argument("--canned", required=True)
ap.add_argument("--script")
ap.add_argument("--key")
ap.add_argument("--max-requests", type=int, default=1000)
ap.add_argument("--max-seconds", type=float, default=300)
args = ap.parse_args()

steps = json.load(open(args.script))["steps"] if args.script else []
for s in steps:
    s.setdefault("times", 1)
lock = threading.RLock()
stats = {"requests": 0, "statuses": {}, "input_tokens": 0, "output_tokens": 0,
         "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0,
         "token_params": [], "atoms": [], "paths": []}
seen_prefixes = set()
first_for_target = {}


def tokens(text):
    return max(1, len(text.encode()) // 4)


def save_stats():
    tmp = args.stats + ".tmp"
    with open(tmp, "w") as f:
        json.dump(stats, f)
    os.rename(tmp, args.stats)


def take_step(atom):
    for s in steps:
        if s["times"] > 0 and s.get("match", "*") in ("*", atom):
            s["times"] -= 1
            return s
    return None


def canned_answer(atom, target):
    path = os.path.join(args.canned, ".atoms", atom)
    if not os.path.exists(path):
        path = os.path.join(args.canned, target)
    with open(path) as f:
        text = f.read()
    owner = first_for_target.setdefault(target, atom)
    if owner != atom:
        text = "# written with the first part of this file\n"  # a later fragment of a shared target
    lang = "python" if target.endswith(".py") else ""
    return "Here is the file.\n\nFile: %s\n```%s\n%s```\n" % (target, lang, text)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def send(self, status, body, headers=None):
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.uncount()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        try:
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def do_POST(self):
        with lock:
            stats["inflight"] = stats.get("inflight", 0) + 1
            stats["max_inflight"] = max(stats.get("max_inflight", 0), stats["inflight"])
        self.counted = True
        try:
            self.answer()
        finally:
            self.uncount()

    def uncount(self):
        # before the reply is sent: the client may start its next call as soon as it has it
        with lock:
            if self.counted:
                self.counted = False
                stats["inflight"] -= 1
                save_stats()

    def answer(self):
        n = int(self.headers.get("Content-Length", "0"))
        raw = self.rfile.read(n)
        anthropic = self.path.endswith("/v1/messages")
        if not anthropic and not self.path.endswith("/chat/completions"):
            return self.send(404, {"error": {"message": "no such endpoint " + self.path}})
        given = self.headers.get("x-api-key") if anthropic else (
            self.headers.get("Authorization", "")[7:] if self.headers.get("Authorization", "").startswith("Bearer ") else None)
        req = json.loads(raw)
        msgs = req["messages"]
        if anthropic:
            system = "".join(b["text"] for b in req["system"])
            shared = req["system"][0]["text"]
            cached = "cache_control" in req["system"][0]
        else:
            system = "".join(m["content"] for m in msgs if m["role"] == "system")
            shared = next(m["content"] for m in msgs if m["role"] == "system")
            cached = True  # OpenAI caches prompt prefixes automatically
            msgs = [m for m in msgs if m["role"] != "system"]
        user = msgs[0]["content"]
        atom = re.search(r"[Aa]tom `([^`]+)`", user).group(1)
        repair = "has syntax errors" in user
        target = re.search(r"Write `([^`]+)`", user).group(1)
        continuation = len(msgs) > 1
        with lock:
            stats["requests"] += 1
            stats["paths"].append(self.path)
            stats["token_params"].append("max_tokens" if "max_tokens" in req else
                                         "max_completion_tokens" if "max_completion_tokens" in req else "none")
            stats["atoms"].append(atom)
            stats.setdefault("arrivals", []).append(time.time())
            if args.key and given != args.key:
                stats["statuses"]["401"] = stats["statuses"].get("401", 0) + 1
                save_stats()
                err = {"type": "error", "error": {"type": "authentication_error", "message": "invalid x-api-key"}} \
                    if anthropic else {"error": {"message": "Incorrect API key provided", "type": "invalid_request_error",
                                                  "code": "invalid_api_key"}}
                return self.send(401, err)
            if repair:
                stats["repairs"] = stats.get("repairs", 0) + 1
            if "A first draft of this file" in user:
                stats.setdefault("drafts", []).append(atom)
            step = None if continuation or repair else take_step(atom)
        kind = step.get("kind") if step else None
        if step and "status" in step:
            with lock:
                stats["statuses"][str(step["status"])] = stats["statuses"].get(str(step["status"]), 0) + 1
                save_stats()
            if step["status"] == 429:
                stats.setdefault("rate_limited_at", []).append(time.time())
            err = {"type": "error", "error": {"type": step.get("type", "api_error"),
                                              "message": step.get("error", "scripted failure")}}
            if not anthropic:
                err = {"error": {"message": step.get("error", "scripted failure"), "type": step.get("type", "server_error"),
                                 "code": step.get("type")}}
            return self.send(step["status"], err, step.get("headers"))
        if kind == "slowok":
            time.sleep(step["delay"])
        if kind == "slow":
            time.sleep(step["delay"])
            try:  # the client gave up (timeout): nothing is delivered, nothing counted
                if self.connection.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b"":
                    return
            except BlockingIOError:
                pass
        if kind == "malformed":
            with lock:
                stats["statuses"]["200"] = stats["statuses"].get("200", 0) + 1
                save_stats()
            return self.send(200, b'{"id": "msg_1", "content": [{"type": "text", "text": "cut')
        with lock:
            text = canned_answer(atom, target)
        stop = "end"
        if kind == "cut":
            text, stop = text[: len(text) // 2], "length"
        elif continuation:
            full = canned_answer(atom, target)
            done = msgs[1]["content"]
            text = full[len(done):] if full.startswith(done) else full
        elif kind == "outside":
            text = "File: ../../outside.py\n```python\nimport os\nos.system('true')\n```\n"
        elif kind == "syntax":
            text = text.replace("```\n", "def broken(:\n    pass\n```\n", 1) if text.count("```") >= 2 else text
        elif kind == "extra":
            text += "\nAnd a helper module:\n\nFile: src/helpers_extra.py\n```python\nX = 1\n```\n"
        elif kind == "refusal":
            text, stop = "I can't help with that request.", "refusal"
        elif kind == "noblock":
            text = "I would be glad to help, but I need more details first."
        with lock:
            prefix_new = shared not in seen_prefixes
            seen_prefixes.add(shared)
            total_in = tokens(json.dumps(req))
            shared_t = tokens(shared) if cached else 0
            creation = shared_t if prefix_new and anthropic else 0
            read = 0 if prefix_new else shared_t
            out_t = tokens(text)
            stats["statuses"]["200"] = stats["statuses"].get("200", 0) + 1
            stats["input_tokens"] += total_in - creation - read
            stats["output_tokens"] += out_t
            stats["cache_creation_input_tokens"] += creation
            stats["cache_read_input_tokens"] += read
            save_stats()
        if anthropic:
            body = {"id": "msg_1", "type": "message", "role": "assistant", "model": req["model"],
                    "content": [] if stop == "refusal" and False else [{"type": "text", "text": text}],
                    "stop_reason": {"end": "end_turn", "length": "max_tokens", "refusal": "refusal"}[stop],
                    "usage": {"input_tokens": total_in - creation - read, "output_tokens": out_t,
                              "cache_creation_input_tokens": creation, "cache_read_input_tokens": read}}
        else:
            message = {"role": "assistant", "content": None if stop == "refusal" else text,
                       "refusal": text if stop == "refusal" else None}
            body = {"id": "chatcmpl-1", "object": "chat.completion", "model": req["model"],
                    "choices": [{"index": 0, "message": message,
                                 "finish_reason": {"end": "stop", "length": "length", "refusal": "stop"}[stop]}],
                    "usage": {"prompt_tokens": total_in - creation, "completion_tokens": out_t,
                              "total_tokens": total_in - creation + out_t,
                              "prompt_tokens_details": {"cached_tokens": read}}}
        self.send(200, body)


srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
srv.daemon_threads = True
with open(args.port_file + ".tmp", "w") as f:
    f.write(str(srv.server_address[1]))
os.rename(args.port_file + ".tmp", args.port_file)
save_stats()
deadline = time.time() + args.max_seconds
srv.timeout = 0.2
while time.time() < deadline and stats["requests"] < args.max_requests:
    srv.handle_request()
srv.server_close()
