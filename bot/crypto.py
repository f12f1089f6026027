"""The WeCom callback protocol: signature, AES-256-CBC, receive id — strict, through wechatpy.

wechatpy 2.0.0a26 parses the XML before checking the signature (with xmltodict, entities and
all) and does not check the PKCS#7 padding. Here the outer XML is parsed with defusedxml (no
DOCTYPE, no entities), the signature is checked in constant time before anything is decrypted,
and padding, length and receive id are all checked before the plaintext is trusted.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import struct
import time
import xml.etree.ElementTree as ET

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import DefusedXMLParser
from wechatpy.crypto.base import WeChatCipher
from wechatpy.work.crypto import PrpCrypto

from bot.config import check_aes_key
from bot.errors import RejectedCallback


def signature(token: str, timestamp: str, nonce: str, encrypt: str) -> str:
    """WeCom's msg_signature: sha1 of the four strings sorted and joined."""
    return hashlib.sha1("".join(sorted([token, timestamp, nonce, encrypt])).encode("utf-8")).hexdigest()


# WeCom's deepest message (a card event's SelectedItems/SelectedItem/OptionIds/OptionId) is five
# levels below <xml>, and no message has more than a few dozen elements.
MAX_DEPTH = 8
MAX_ELEMENTS = 500


class _BoundedTreeBuilder(ET.TreeBuilder):
    """A tree builder that refuses deep nesting and too many elements while parsing, before any
    recursion can run out of stack (a 1,000-deep envelope is 7.5 KB)."""

    def __init__(self, what: str):
        super().__init__()
        self.what = what
        self.depth = 0
        self.count = 0

    def start(self, tag, attrs):
        self.depth += 1
        self.count += 1
        if self.depth > MAX_DEPTH:
            raise RejectedCallback(400, f"{self.what}: nested deeper than {MAX_DEPTH} elements")
        if self.count > MAX_ELEMENTS:
            raise RejectedCallback(400, f"{self.what}: more than {MAX_ELEMENTS} elements")
        return super().start(tag, attrs)

    def end(self, tag):
        self.depth -= 1
        return super().end(tag)


def _parse(text: str | bytes, what: str) -> ET.Element:
    parser = DefusedXMLParser(target=_BoundedTreeBuilder(what), forbid_dtd=True, forbid_entities=True,
                              forbid_external=True)
    parser.feed(text)
    return parser.close()


def parse_xml(text: str | bytes, what: str = "body") -> dict:
    """Parse WeCom XML into a dict (nested elements become dicts); refuse DOCTYPE and entities,
    and envelopes nested deeper than ``MAX_DEPTH`` or with more than ``MAX_ELEMENTS`` elements."""
    if isinstance(text, bytes):
        probe = text[:4096].lower()
    else:
        probe = text[:4096].lower().encode("utf-8", "replace")
    if b"<!doctype" in probe or b"<!entity" in probe:
        raise RejectedCallback(400, f"{what}: DOCTYPE or entity declaration")
    try:
        root = _parse(text, what)
    except (ET.ParseError, DefusedXmlException, ValueError, TypeError, LookupError) as exc:
        raise RejectedCallback(400, f"{what}: malformed XML ({type(exc).__name__})") from None
    if root.tag != "xml":
        raise RejectedCallback(400, f"{what}: root element is not <xml>")
    return _element_to_dict(root)


def _element_to_dict(elem: ET.Element) -> dict:
    out: dict = {}
    for child in elem:
        value = _element_to_dict(child) if len(child) else (child.text or "").strip()
        if child.tag in out:  # repeated elements become a list
            if not isinstance(out[child.tag], list):
                out[child.tag] = [out[child.tag]]
            out[child.tag].append(value)
        else:
            out[child.tag] = value
    return out


class CallbackCrypto:
    """Verify and decrypt WeCom callbacks (and encrypt them, for the stand-in and tests)."""

    def __init__(self, token: str, encoding_aes_key: str, receive_id: str):
        self.token = token
        self.key = check_aes_key(encoding_aes_key)
        self.receive_id = receive_id

    def check(self, msg_signature: str, timestamp: str, nonce: str, encrypt: str) -> None:
        """Raise 403 unless ``msg_signature`` signs ``encrypt``."""
        if not (msg_signature and timestamp and nonce and encrypt):
            raise RejectedCallback(403, "missing signature parameters")
        expected = signature(self.token, timestamp, nonce, encrypt)
        if not hmac.compare_digest(expected.encode(), msg_signature.encode("utf-8", "replace")):
            raise RejectedCallback(403, "bad signature")

    def decrypt(self, encrypt: str) -> str:
        """Decrypt one Encrypt/echostr value; check padding, length and receive id."""
        try:
            raw = base64.b64decode(encrypt, validate=True)
        except (binascii.Error, ValueError):
            raise RejectedCallback(400, "ciphertext is not base64") from None
        if not raw or len(raw) % 16:
            raise RejectedCallback(400, "ciphertext length is not a multiple of the AES block")
        plain = WeChatCipher(self.key).decrypt(raw)
        pad = plain[-1]
        if not 1 <= pad <= 32 or plain[-pad:] != bytes([pad]) * pad:
            raise RejectedCallback(400, "bad PKCS#7 padding")
        content = plain[16:-pad]
        if len(content) < 4:
            raise RejectedCallback(400, "plaintext too short")
        (length,) = struct.unpack("!I", content[:4])
        if length > len(content) - 4:
            raise RejectedCallback(400, "plaintext length field out of range")
        body, receive_id = content[4:4 + length], content[4 + length:]
        if receive_id != self.receive_id.encode():
            raise RejectedCallback(403, "wrong receive id")
        try:
            return body.decode("utf-8")
        except UnicodeDecodeError:
            raise RejectedCallback(400, "plaintext is not UTF-8") from None

    def verify_url(self, msg_signature: str, timestamp: str, nonce: str, echostr: str) -> str:
        """URL verification (GET): the decrypted echostr."""
        self.check(msg_signature, timestamp, nonce, echostr)
        return self.decrypt(echostr)

    def decrypt_post(self, body: bytes, msg_signature: str, timestamp: str, nonce: str) -> dict:
        """A POSTed callback: the decrypted message as a dict."""
        outer = parse_xml(body, "envelope")
        encrypt = outer.get("Encrypt")
        if not isinstance(encrypt, str) or not encrypt:
            raise RejectedCallback(400, "envelope has no Encrypt element")
        self.check(msg_signature, timestamp, nonce, encrypt)
        return parse_xml(self.decrypt(encrypt), "message")

    def encrypt(self, plaintext: str, nonce: str, timestamp: str | None = None) -> dict:
        """Encrypt ``plaintext`` as WeCom does: the Encrypt value and the query parameters."""
        timestamp = timestamp or str(int(time.time()))
        encrypt = PrpCrypto(self.key).encrypt(plaintext, self.receive_id).decode()
        return {"encrypt": encrypt, "msg_signature": signature(self.token, timestamp, nonce, encrypt),
                "timestamp": timestamp, "nonce": nonce}

    def build_post(self, plaintext: str, nonce: str, timestamp: str | None = None,
                   to_user: str | None = None, agent_id: str = "") -> tuple[bytes, dict]:
        """A full callback as WeCom posts it: (body, query parameters)."""
        sealed = self.encrypt(plaintext, nonce, timestamp)
        body = (f"<xml><ToUserName><![CDATA[{to_user or self.receive_id}]]></ToUserName>"
                f"<Encrypt><![CDATA[{sealed['encrypt']}]]></Encrypt>"
                f"<AgentID><![CDATA[{agent_id}]]></AgentID></xml>")
        params = {k: sealed[k] for k in ("msg_signature", "timestamp", "nonce")}
        return body.encode("utf-8"), params


