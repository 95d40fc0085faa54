"""Schemathesis hooks for fnf-server (loaded with SCHEMATHESIS_HOOKS=fnf_hooks).

* An auth hook signs every generated request with the V1 signature of docs/COMPATIBILITY.md#v1-signatures, so the
  server's handlers answer instead of its authentication layer. It signs the request exactly
  as it leaves (a `requests` auth object sees the prepared request): it form-decodes the
  query and the form body the way the server does, drops any signing parameter the
  generator produced, adds fresh ones (new `SignatureNonce`, current `Timestamp`), and
  computes `Signature` over the merged map (body wins over query).
* `flatmap_body`/`flatmap_query` hooks point half of the generated cases at resources that exist (the
  ones the Rust test seeds, named in the document's examples), so the handlers' paths past
  "not found" are fuzzed too: pagination, filters, long polling, stops, updates.
* An `after_call` hook appends one JSON line per answer (action, status, code) to the file
  named by FNF_TALLY_PATH, so the Rust test can prove the handlers were reached.

Environment: FNF_ACCESS_KEY_ID, FNF_ACCESS_KEY_SECRET, FNF_TALLY_PATH (optional).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import random
import threading
import uuid
from datetime import datetime, timezone
from urllib.parse import quote, urlsplit, urlunsplit

import requests
import schemathesis
from hypothesis import strategies as st

# The common parameters of a V1 signature (docs/COMPATIBILITY.md#parameters); the hook owns all of them.
SIGNING_PARAMETERS = frozenset(
    {
        "AccessKeyId",
        "Signature",
        "SignatureMethod",
        "SignatureVersion",
        "SignatureNonce",
        "Timestamp",
    }
)


class UndecodableForm(ValueError):
    """A query or body the server would refuse to parse (it answers InvalidArgument)."""


def form_decode(raw: bytes) -> list[tuple[str, str]]:
    """Form decoding as the server does it (docs/COMPATIBILITY.md#parameters): `+` is a space, `%XX` a byte."""
    pairs = []
    for segment in raw.split(b"&"):
        if not segment:
            continue
        name, _, value = segment.partition(b"=")
        pairs.append((decode_component(name), decode_component(value)))
    return pairs


def decode_component(raw: bytes) -> str:
    out = bytearray()
    i = 0
    while i < len(raw):
        byte = raw[i]
        if byte == ord("+"):
            out.append(0x20)
            i += 1
        elif byte == ord("%"):
            digits = raw[i + 1 : i + 3]
            try:
                if len(digits) != 2:
                    raise ValueError
                out.append(int(digits, 16))
            except ValueError as error:
                raise UndecodableForm(raw) from error
            i += 3
        else:
            out.append(byte)
            i += 1
    try:
        return out.decode("utf-8")
    except UnicodeDecodeError as error:
        raise UndecodableForm(raw) from error


def percent_encode(text: str) -> str:
    """docs/COMPATIBILITY.md#v1-signatures step 3: UTF-8, `A-Z a-z 0-9 - _ . ~` kept, all else `%XX` upper-case."""
    return quote(text.encode("utf-8"), safe="-_.~")


def encode_pairs(pairs: list[tuple[str, str]]) -> str:
    return "&".join(f"{percent_encode(k)}={percent_encode(v)}" for k, v in pairs)


def string_to_sign(method: str, params: dict[str, str]) -> str:
    """docs/COMPATIBILITY.md#v1-signatures steps 1–5 (`params` already without `Signature`)."""
    canonical = "&".join(
        f"{percent_encode(name)}={percent_encode(params[name])}"
        # Names are sorted as byte strings (UTF-8 order equals code point order).
        for name in sorted(params, key=lambda n: n.encode("utf-8"))
    )
    return f"{method.upper()}&%2F&{percent_encode(canonical)}"


def sign(secret: str, text: str) -> str:
    """docs/COMPATIBILITY.md#v1-signatures steps 6–7: key = secret + "&", base64 HMAC-SHA1."""
    digest = hmac.new((secret + "&").encode("utf-8"), text.encode("utf-8"), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


def is_form(content_type: str | None) -> bool:
    if not content_type:
        return False
    return content_type.split(";")[0].strip().lower() == "application/x-www-form-urlencoded"


class FnfV1Signer(requests.auth.AuthBase):
    """Signs a prepared request in place with a fresh nonce and timestamp."""

    def __init__(self, access_key_id: str, access_key_secret: str) -> None:
        self.access_key_id = access_key_id
        self.access_key_secret = access_key_secret
        self.random = random.Random()

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        # A generated `Authorization` header could start with ACS3- and select V3.
        request.headers.pop("Authorization", None)
        url = urlsplit(request.url)
        try:
            query = form_decode(url.query.encode("latin-1"))
        except (UndecodableForm, UnicodeEncodeError):
            return request  # the server refuses the query before looking at a signature
        body = request.body
        if isinstance(body, str):
            body = body.encode("utf-8")
        body_pairs: list[tuple[str, str]] | None = None
        if body and is_form(request.headers.get("Content-Type")):
            try:
                body_pairs = form_decode(body)
            except UndecodableForm:
                return request
        query = [(k, v) for k, v in query if k not in SIGNING_PARAMETERS]
        if body_pairs is not None:
            body_pairs = [(k, v) for k, v in body_pairs if k not in SIGNING_PARAMETERS]
        fresh = [
            ("AccessKeyId", self.access_key_id),
            ("SignatureMethod", "HMAC-SHA1"),
            ("SignatureVersion", "1.0"),
            ("SignatureNonce", uuid.uuid4().hex),
            ("Timestamp", datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")),
        ]
        # Like the Python SDKs (query) or like Node (everything in the form body).
        in_body = body_pairs is not None and self.random.random() < 0.5
        if in_body:
            body_pairs.extend(fresh)
        else:
            query.extend(fresh)
        merged = dict(query)
        merged.update(body_pairs or [])  # docs/COMPATIBILITY.md#parameters: the body wins
        merged.pop("Signature", None)
        signature = ("Signature", sign(self.access_key_secret, string_to_sign(request.method, merged)))
        if in_body:
            body_pairs.append(signature)
        else:
            query.append(signature)
        request.url = urlunsplit((url.scheme, url.netloc, url.path, encode_pairs(query), url.fragment))
        if body_pairs is not None:
            encoded = encode_pairs(body_pairs).encode("ascii")
            request.body = encoded
            request.headers["Content-Length"] = str(len(encoded))
        return request


schemathesis.auth.set_from_requests(
    FnfV1Signer(os.environ["FNF_ACCESS_KEY_ID"], os.environ["FNF_ACCESS_KEY_SECRET"])
)


# Resources the Rust test creates before the run (see tests/common/openapi.rs).
SEEDED = {
    "FlowName": ["my_flow", "my_flow", "slow_flow", "my_express_flow"],
    "ExecutionName": ["exec1"],
}


def _steered(container):
    """Half the time, the same parameters naming seeded resources."""
    if not isinstance(container, dict) or not any(name in container for name in SEEDED):
        return st.just(container)

    def steer(choices):
        steered = dict(container)
        for name, value in choices.items():
            if name in steered:
                steered[name] = value
        return steered

    seeded = st.fixed_dictionaries({name: st.sampled_from(values) for name, values in SEEDED.items()})
    return st.one_of(st.just(container), seeded.map(steer))


@schemathesis.hook
def flatmap_body(context, body):
    return _steered(body)


@schemathesis.hook
def flatmap_query(context, query):
    return _steered(query)


_TALLY_LOCK = threading.Lock()


def _sent_parameters(request: requests.PreparedRequest | None) -> dict[str, str]:
    """The parameters the server saw (query, then body over it); empty if undecodable."""
    if request is None:
        return {}
    params: dict[str, str] = {}
    try:
        params.update(form_decode(urlsplit(request.url).query.encode("latin-1")))
        body = request.body
        if isinstance(body, str):
            body = body.encode("utf-8")
        if body and is_form(request.headers.get("Content-Type")):
            params.update(form_decode(body))
    except (UndecodableForm, UnicodeEncodeError):
        return {}
    return params


@schemathesis.hook
def after_call(context, case, response):
    path = os.environ.get("FNF_TALLY_PATH")
    if not path:
        return
    try:
        code = json.loads(response.content or b"{}").get("Code", "")
    except (ValueError, AttributeError):
        code = "(not JSON)"
    sent = _sent_parameters(getattr(response, "request", None))
    line = {
        "method": case.method,
        "action": sent.get("Action", ""),
        "flow": sent.get("FlowName", sent.get("Name", ""))[:40],
        "status": response.status_code,
        "code": code if isinstance(code, str) else repr(code),
    }
    with _TALLY_LOCK, open(path, "a", encoding="utf-8") as tally:
        tally.write(json.dumps(line) + "\n")
