"""Test images with the metadata a phone or an editor leaves in them."""

import io
import struct

from PIL import Image, PngImagePlugin

# A place nobody should be able to find from a photo of the dog.
GPS = {1: "N", 2: (53.0, 28.0, 51.3), 3: "W", 4: (2.0, 14.0, 33.9)}
XMP = (
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
    b'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description '
    b'xmlns:exif="http://ns.adobe.com/exif/1.0/" exif:GPSLatitude="53,28.855N" '
    b'exif:GPSLongitude="2,14.565W"/></rdf:RDF></x:xmpmeta>'
)
RED = (220, 20, 20)
BLUE = (20, 20, 220)


def picture(width=40, height=20):
    """Left half red, right half blue: shows which way a picture was turned."""
    im = Image.new("RGB", (width, height), BLUE)
    im.paste(RED, (0, 0, width // 2, height))
    return im


def exif_with(orientation=1, description=None, gps=True):
    exif = Image.Exif()
    exif[0x010F] = "ExampleCam"
    exif[0x0112] = orientation
    if description:
        exif[0x010E] = description
    if gps:
        exif.get_ifd(0x8825).update(GPS)
    return exif


def jpeg(orientation=1, description=None, iptc=None, comment=None):
    buffer = io.BytesIO()
    picture().save(
        buffer,
        "JPEG",
        quality=92,
        exif=exif_with(orientation, description),
        xmp=XMP,
        **({"comment": comment} if comment else {}),
    )
    data = buffer.getvalue()
    if iptc:
        data = _insert_after_app0(data, _app13(iptc))
    return data


def png(text=None):
    info = PngImagePlugin.PngInfo()
    for key, value in (text or {}).items():
        info.add_text(key, value)
        info.add_text(key + "Z", value, zip=True)
        info.add_itxt(key + "I", value)
    info.add_itxt("XML:com.adobe.xmp", XMP.decode())
    buffer = io.BytesIO()
    picture().save(buffer, "PNG", pnginfo=info, exif=exif_with())
    return buffer.getvalue()


def webp(description=None, lossless=True):
    buffer = io.BytesIO()
    picture().save(
        buffer,
        "WEBP",
        lossless=lossless,
        exif=exif_with(description=description),
        xmp=XMP,
    )
    return buffer.getvalue()


def _app13(caption):
    """A Photoshop APP13 segment holding an IPTC caption (2:120)."""
    text = caption.encode()
    iptc = b"\x1c\x02\x78" + struct.pack(">H", len(text)) + text
    resource = b"8BIM\x04\x04\x00\x00" + struct.pack(">I", len(iptc)) + iptc
    if len(iptc) % 2:
        resource += b"\x00"
    payload = b"Photoshop 3.0\x00" + resource
    return b"\xff\xed" + struct.pack(">H", len(payload) + 2) + payload


def _insert_after_app0(data, segment):
    (length,) = struct.unpack(">H", data[4:6])
    at = 4 + length
    return data[:at] + segment + data[at:]
