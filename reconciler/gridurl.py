"""Where Grid credentials may be sent: one policy for every Grid URL, checked before any request.

- ``sim://PATH`` is the embedded emulator (its own credentials, on loopback);
- ``https://HOST`` is a Grid;
- ``http://HOST`` only when HOST is a loopback address (``gridops sim serve``): anywhere else
  the API key would cross the network in the clear;
- never a link-local or cloud metadata address (169.254.0.0/16, fe80::/10, fd00:ec2::254),
  never user info (``https://user:key@host``), control characters, spaces or backslashes,
  and no other scheme.

``check_grid_url`` is pure: it returns what the URL is, or raises ``ConfigError`` with a clear
message that never repeats the URL's user info.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from reconciler.errors import ConfigError
from reconciler.printable import printable

SIM_SCHEME = "sim://"
#: what a URL is: the embedded emulator, a Grid on this machine, or a Grid elsewhere
KIND_SIM = "sim"
KIND_LOOPBACK = "loopback"
KIND_REMOTE = "remote"

_HINT = "use https://platform.grid.ai, or sim://.gridops/sim.db for the local emulator"
_METADATA_HOSTS = frozenset({"metadata.google.internal", "metadata", "instance-data",
                             "instance-data.ec2.internal"})
_METADATA_ADDRESSES = (ipaddress.ip_network("169.254.0.0/16"),
                       ipaddress.ip_network("fe80::/10"),
                       ipaddress.ip_network("fd00:ec2::254/128"))
#: characters no Grid URL holds: controls, spaces, backslashes (parsers disagree on them)
_FORBIDDEN = re.compile(r"[\x00-\x20\x7f-\x9f\\\u2028\u2029]")
_NUMERIC_HOST = re.compile(r"[0-9a-fA-Fx.]+")


@dataclass(frozen=True)
class GridTarget:
    """A checked Grid URL."""

    #: the URL, without a trailing slash
    url: str
    #: KIND_SIM, KIND_LOOPBACK or KIND_REMOTE
    kind: str


def check_grid_url(url: str) -> GridTarget:
    """What ``url`` is, or a ConfigError saying why credentials may not go there."""
    shown = redact_url(url)
    bad = _FORBIDDEN.search(url)
    if bad:
        raise ConfigError(f"Grid URL {shown} contains '{printable(bad.group())}' (a control "
                          "character, space or backslash)", hint=_HINT)
    if url.startswith(SIM_SCHEME):
        return GridTarget(url=url, kind=KIND_SIM)
    scheme = url.partition(":")[0].lower() if ":" in url else ""
    if scheme not in ("http", "https") or not url[len(scheme):].startswith("://"):
        raise ConfigError(f"Grid URL {shown} is neither https://, http:// (loopback only) nor "
                          "sim://", hint=_HINT)
    if "@" in url:  # before parsing: a password holding '/' or '?' hides where the host is
        raise ConfigError(f"Grid URL {shown} carries user info (user:password@): refused",
                          hint="set GRID_USER_ID and GRID_API_KEY instead")
    import httpx  # here, so validating settings does not load the HTTP stack

    try:
        parsed, ours = httpx.URL(url), urlsplit(url)
        port = ours.port
    except (httpx.InvalidURL, ValueError) as e:
        raise ConfigError(f"Grid URL {shown} is not a valid URL: {printable(str(e))}",
                          hint=_HINT) from None
    host = parsed.host.lower()
    if not host or host != (ours.hostname or "").lower() or (port is not None and port == 0):
        raise ConfigError(f"Grid URL {shown} names no usable host", hint=_HINT)
    address = host_address(host)
    if host.rstrip(".") in _METADATA_HOSTS or (
            address is not None and any(address in net for net in _METADATA_ADDRESSES)):
        raise ConfigError(f"Grid URL {shown} is a link-local or cloud metadata address: "
                          "credentials are never sent there", hint=_HINT)
    loopback = is_loopback_host(host)
    if scheme == "http" and not loopback:
        raise ConfigError(f"Grid URL {shown} is plain http to another machine: the API key "
                          "would cross the network unencrypted",
                          hint="use https:// (plain http is allowed only to a loopback "
                               "address, such as `gridops sim serve`)")
    return GridTarget(url=str(parsed).rstrip("/"), kind=KIND_LOOPBACK if loopback else KIND_REMOTE)


def host_address(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The address ``host`` names literally (including the forms the C resolver reads as
    IPv4, such as ``2852039166`` or ``0xa9.0xfe.0xa9.0xfe``); None for a name."""
    text = host.strip("[]").split("%")[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        if not _NUMERIC_HOST.fullmatch(text):
            return None
        try:
            return ipaddress.IPv4Address(socket.inet_aton(text))
        except OSError:
            return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def is_loopback_host(host: str) -> bool:
    name = host.lower().rstrip(".")
    if name == "localhost" or name.endswith(".localhost"):
        return True
    address = host_address(name)
    return address is not None and address.is_loopback


def redact_url(url: str) -> str:
    """``url`` for a message: user info replaced by ``***``, control characters escaped."""
    scheme, sep, rest = url.partition("://")
    if sep and "@" in rest:  # wherever the '@' is: a password may hold '/', '?' or '#'
        url = f"{scheme}{sep}***@{rest.rpartition('@')[2]}"
    return f"'{printable(url)}'"
