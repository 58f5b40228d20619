"""The formats mimetype v1.4.15 knows, as the tree it walks (its tree.go).

Detection starts at the root, `application/octet-stream`, and enters the first child whose test
passes, again and again; the deepest match wins. Order therefore decides overlaps (a text file
starting with "MZ" is an .exe, any text with "%PDF-" in its first KiB is a PDF), and text comes
last. Each node also carries the extension and the aliases mimetype gives that type.

Not reproduced: the OLE (CDF) directory parser, so legacy .doc/.xls/.ppt/.msi/.msg/.pub are
reported as their container `application/x-ole-storage`.
"""

from __future__ import annotations

from typing import NamedTuple

from .binary import (
    dbf,
    dwg,
    elf,
    eot,
    framemaker,
    installshield,
    java_class,
    lotus,
    macho,
    marc,
    otf,
    p7s,
    pcap,
    pyc,
    shp,
    ttc,
    ttf,
    tzif,
    versioned,
    wordperfect,
    zlib_stream,
    zstd,
)
from .containers import apk, cpio, crx, declared, jar, ooxml, tar, zip_archive, zip_has
from .delimited import separated
from .jsonlike import Query, json_like, ndjson
from .markup import markup, ns, svg, xhtml, xml_root
from .media import aiff, apng, avi, bmp, brand, djvu, jpeg2k, matroska, mp4, mpeg, ogg_payload, quicktime, riff
from .mp3 import mp3
from .scan import Test, at, starts
from .text import SHELLS, USR, ci_prefix, gedcom, netpam, netpbm, plain_text, rfc822, runs, shebang, srt, vtt


class Format(NamedTuple):
    """A node of the tree: entered when `test` passes on the head, then its children are tried."""

    mime: str
    ext: str
    test: Test
    children: tuple[Format, ...]
    aliases: tuple[str, ...]


def _t(mime: str, ext: str, test: Test, *children: Format, aka: str = "") -> Format:
    """One format; `aka` lists mimetype's aliases for it, space separated."""
    return Format(mime, ext, test, children, tuple(aka.split()))


def _opendoc(kind: str, ext: str, template_ext: str = "") -> Format:
    """An OpenDocument format, with its template as a child when it has one."""
    name = f"application/vnd.oasis.opendocument.{kind}"
    alias = f"application/x-vnd.oasis.opendocument.{kind}"
    if not template_ext:
        return _t(name, ext, declared(name), aka=alias)
    template = _t(f"{name}-template", template_ext, declared(f"{name}-template"),
                  aka=f"{alias}-template")
    return _t(name, ext, declared(name), template, aka=alias)


_ZIP_KINDS = (
    _t("application/vnd.openxmlformats-officedocument.wordprocessingml.document", ".docx",
       ooxml(b"word/")),
    _t("application/vnd.openxmlformats-officedocument.presentationml.presentation", ".pptx",
       ooxml(b"ppt/")),
    _t("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", ".xlsx",
       ooxml(b"xl/")),
    _t("application/epub+zip", ".epub", declared("application/epub+zip")),
    _t("application/vnd.android.package-archive", ".apk", apk),
    _t("application/java-archive", ".jar", jar,
       aka="application/jar application/jar-archive application/x-java-archive"),
    _opendoc("text", ".odt", ".ott"),
    _opendoc("spreadsheet", ".ods", ".ots"),
    _opendoc("presentation", ".odp", ".otp"),
    _opendoc("graphics", ".odg", ".otg"),
    _opendoc("formula", ".odf"),
    _opendoc("chart", ".odc"),
    _t("application/vnd.sun.xml.calc", ".sxc", declared("application/vnd.sun.xml.calc")),
    _t("application/vnd.google-earth.kmz", ".kmz", zip_has((b"doc.kml",))),
    _t("application/vnd.ms-visio.drawing.main+xml", ".vsdx", ooxml(b"visio/")),
)

_3GP_BRANDS = tuple(b"3gp%d" % k for k in range(1, 8)) + (b"3gs7", b"3ge6", b"3ge7", b"3gg6")
_DVB_BRANDS = (b"dby1", b"dsms", b"dts1", b"dts2", b"dts3", b"dxo ", b"dmb1", b"dmpf", b"drc1",
               b"dv1a", b"dv1b", b"dv2a", b"dv2b", b"dv3a", b"dv3b", b"dvr1", b"dvt1", b"emsg")
_MP4_KINDS = (
    _t("image/avif", ".avif", brand(b"avif", b"avis")),
    _t("video/3gpp", ".3gp", brand(*_3GP_BRANDS), aka="video/3gp audio/3gpp"),
    _t("video/3gpp2", ".3g2", brand(b"3g24", b"3g25", b"3g26", b"3g2a", b"3g2b", b"3g2c", b"KDDI"),
       aka="video/3g2 audio/3gpp2"),
    _t("audio/mp4", ".mp4", brand(b"F4A ", b"F4B ", b"M4B ", b"M4P ", b"MSNV", b"NDAS"),
       aka="audio/x-mp4a"),
    _t("video/quicktime", ".mqv", brand(b"mqt ")),
    _t("audio/x-m4a", ".m4a", brand(b"M4A ")),
    _t("video/x-m4v", ".m4v", brand(b"M4V ", b"M4VH", b"M4VP")),
    _t("image/heic", ".heic", brand(b"heic", b"heix")),
    _t("image/heic-sequence", ".heic", brand(b"hevc", b"hevx")),
    _t("image/heif", ".heif", brand(b"mif1", b"heim", b"heis", b"avic")),
    _t("image/heif-sequence", ".heif", brand(b"msf1", b"hevm", b"hevs", b"avcs")),
    _t("video/mj2", ".mj2", brand(b"mj2s", b"mjp2", b"MFSM", b"MGSV")),
    _t("video/vnd.dvb.file", ".dvb", brand(*_DVB_BRANDS)),
)

_KML = tuple(ns(b"<kml", u + b'"') for u in (
    b"http://www.opengis.net/kml/2.2", b"http://earth.google.com/kml/2.0",
    b"http://earth.google.com/kml/2.1", b"http://earth.google.com/kml/2.2"))
_GML = tuple((b"", b'xmlns:gml="http://www.opengis.net/gml' + v + b'"')
             for v in (b"", b"/3.2", b"/3.3/exr"))
_XML_KINDS = (
    _t("application/rss+xml", ".rss", xml_root((b"<rss", b"")), aka="text/rss"),
    _t("application/atom+xml", ".atom", xml_root(ns(b"<feed", b'http://www.w3.org/2005/Atom"'))),
    _t("model/x3d+xml", ".x3d", xml_root(
        (b"<X3D", b'xmlns:xsd="http://www.w3.org/2001/XMLSchema-instance"'))),
    _t("application/vnd.google-earth.kml+xml", ".kml", xml_root(*_KML)),
    _t("application/x-xliff+xml", ".xlf", xml_root(
        ns(b"<xliff", b'urn:oasis:names:tc:xliff:document:1.2"'))),
    _t("model/vnd.collada+xml", ".dae", xml_root(
        ns(b"<COLLADA", b'http://www.collada.org/2005/11/COLLADASchema"'))),
    _t("application/gml+xml", ".gml", xml_root(*_GML)),
    _t("application/gpx+xml", ".gpx", xml_root(
        ns(b"<gpx", b'http://www.topografix.com/GPX/1/1"'))),
    _t("application/vnd.garmin.tcx+xml", ".tcx", xml_root(ns(
        b"<TrainingCenterDatabase",
        b'http://www.garmin.com/xmlschemas/TrainingCenterDatabase/v2"'))),
    _t("application/x-amf", ".amf", xml_root((b"<amf", b""))),
    _t("application/vnd.ms-package.3dmanufacturing-3dmodel+xml", ".3mf", xml_root(
        ns(b"<model", b'http://schemas.microsoft.com/3dmanufacturing/core/2015/02"'))),
    _t("application/vnd.adobe.xfdf", ".xfdf", xml_root(
        ns(b"<xfdf", b'http://ns.adobe.com/xfdf/"'))),
    _t("application/owl+xml", ".owl", xml_root(
        ns(b"<Ontology", b'http://www.w3.org/2002/07/owl#"'))),
    _t("application/xhtml+xml", ".html", xhtml),
    # no closing quote: any schema version
    _t("application/vnd.cyclonedx+xml", ".xml", xml_root(
        ns(b"<bom", b"http://cyclonedx.org/schema/bom/"))),
)

_GEO_TYPES = tuple(b'"%s"' % t for t in (
    b"Feature", b"FeatureCollection", b"Point", b"LineString", b"Polygon", b"MultiPoint",
    b"MultiLineString", b"MultiPolygon", b"GeometryCollection"))
_HAR_KEYS = tuple(Query((b"log", k)) for k in (b"version", b"creator", b"entries"))
_JSON_KINDS = (
    _t("application/geo+json", ".geojson", json_like((Query((b"type",), _GEO_TYPES),))),
    _t("application/json", ".har", json_like(_HAR_KEYS)),
    _t("model/gltf+json", ".gltf",
       json_like((Query((b"asset", b"version"), (b'"1.0"', b'"2.0"')),))),
    _t("application/vnd.cyclonedx+json", ".json",
       json_like((Query((b"bomFormat",), (b'"CycloneDX"',)),))),
)

_HTML_TAGS = (b"<!DOCTYPE HTML", b"<HTML", b"<HEAD", b"<SCRIPT", b"<IFRAME", b"<H1", b"<DIV",
              b"<FONT", b"<TABLE", b"<A", b"<STYLE", b"<TITLE", b"<B", b"<BODY", b"<BR", b"<P",
              b"<!--")
_PHP = (ci_prefix(b"<?PHP", b"<?\n", b"<?\r", b"<? "),
        shebang(*runs("php", ("/usr/local/bin/", "/usr/bin/"))))
_TEXT_KINDS = (
    _t("image/svg+xml", ".svg", svg),
    _t("text/html", ".html", markup(*_HTML_TAGS)),
    _t("text/xml", ".xml", markup(b"<?XML"), *_XML_KINDS, aka="application/xml"),
    _t("text/x-php", ".php", lambda b: any(test(b) for test in _PHP)),
    _t("text/javascript", ".js", shebang(*runs("node", ("/bin/", "/usr/bin/"))),
       aka="application/x-javascript application/javascript"),
    _t("text/x-lua", ".lua", shebang(*runs("lua", USR, word=True))),
    _t("text/x-perl", ".pl", shebang(*runs("perl", ("/usr/bin/",), word=True))),
    _t("text/x-python", ".py", shebang(*runs("python", USR)),
       aka="text/x-script.python application/x-python"),
    _t("text/x-ruby", ".rb", shebang(*runs("ruby", USR)), aka="application/x-ruby"),
    _t("application/json", ".json", json_like(arrays=True), *_JSON_KINDS),
    _t("application/x-ndjson", ".ndjson", ndjson),
    _t("text/rtf", ".rtf", starts(b"{\\rtf"), aka="application/rtf"),
    _t("application/x-subrip", ".srt", srt, aka="application/x-srt text/x-srt"),
    _t("text/x-tcl", ".tcl", shebang(*runs("tcl", USR), *runs("wish", USR)),
       aka="application/x-tcl"),
    _t("text/csv", ".csv", separated(b",")),
    _t("text/tab-separated-values", ".tsv", separated(b"\t")),
    _t("text/vcard", ".vcf", ci_prefix(b"BEGIN:VCARD\n", b"BEGIN:VCARD\r\n")),
    _t("text/calendar", ".ics", ci_prefix(b"BEGIN:VCALENDAR\n", b"BEGIN:VCALENDAR\r\n")),
    _t("application/warc", ".warc", starts(b"WARC/1.0", b"WARC/1.1")),
    _t("text/vtt", ".vtt", vtt),
    _t("text/x-shellscript", ".sh", shebang(*SHELLS),
       aka="text/x-sh application/x-shellscript application/x-sh"),
    _t("image/x-portable-bitmap", ".pbm", netpbm(b"P1\n", b"P4\n")),
    _t("image/x-portable-graymap", ".pgm", netpbm(b"P2\n", b"P5\n")),
    _t("image/x-portable-pixmap", ".ppm", netpbm(b"P3\n", b"P6\n")),
    _t("image/x-portable-arbitrarymap", ".pam", netpam),
    _t("message/rfc822", ".eml", rfc822),
    _t("text/vnd.familysearch.gedcom", ".ged", gedcom),
)

_GZIP_ALIASES = ("application/x-gzip application/x-gunzip application/gzipped "
                 "application/gzip-compressed application/x-gzip-compressed gzip/document")
_DWG_ALIASES = ("image/x-dwg application/acad application/x-acad application/autocad_dwg "
                "application/dwg application/x-dwg application/x-autocad drawing/dwg")
_DXF = (b"  0\nSECTION\n", b"  0\r\nSECTION\r\n", b"0\nSECTION\n", b"0\r\nSECTION\r\n")
_ASF = bytes.fromhex("3026b2758e66cf11a6d900aa0062ce6c")
_APE = bytes.fromhex("4d414320960f0000340000001800000090e3")
_ONENOTE = bytes.fromhex("e4525c7b8cd8a74daeb15378d02996d3")

# Order matters: the first passing test wins, exactly as in mimetype's tree.go.
ROOT = _t(
    "application/octet-stream", "", lambda b: True,
    _t("image/x-xpixmap", ".xpm", starts(b"/* XPM */")),
    _t("application/x-7z-compressed", ".7z", starts(b"7z\xbc\xaf\x27\x1c")),
    _t("application/zip", ".zip", zip_archive, *_ZIP_KINDS,
       aka="application/x-zip application/x-zip-compressed"),
    _t("application/pdf", ".pdf", lambda b: b"%PDF-" in b[:1024], aka="application/x-pdf"),
    _t("application/vnd.fdf", ".fdf", starts(b"%FDF")),
    _t("application/x-ole-storage", "", starts(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1")),
    _t("application/postscript", ".ps", starts(b"%!PS-Adobe-")),
    _t("image/vnd.adobe.photoshop", ".psd", starts(b"8BPS"),
       aka="image/x-psd application/photoshop"),
    _t("application/pkcs7-signature", ".p7s", p7s),
    _t("application/ogg", ".ogg", starts(b"OggS\x00"),
       _t("audio/ogg", ".oga", ogg_payload(b"\x7fFLAC", b"\x01vorbis", b"OpusHead", b"Speex   ")),
       _t("video/ogg", ".ogv",
          ogg_payload(b"\x80theora", b"fishead\x00", b"\x01video\x00\x00\x00")),
       aka="application/x-ogg"),
    _t("image/png", ".png", starts(b"\x89PNG\r\n\x1a\n"),
       _t("image/apng", ".apng", apng, aka="image/vnd.mozilla.apng")),
    _t("image/jpeg", ".jpg", starts(b"\xff\xd8\xff")),
    _t("image/jxl", ".jxl", starts(b"\xff\x0a", b"\x00\x00\x00\x0cJXL \x0d\x0a\x87\x0a")),
    _t("image/jp2", ".jp2", jpeg2k(b"jp2 ")),
    _t("image/jpx", ".jpf", jpeg2k(b"jpx ")),
    _t("image/jpm", ".jpm", jpeg2k(b"jpm "), aka="video/jpm"),
    _t("image/jxs", ".jxs", starts(b"\x00\x00\x00\x0cJXS \x0d\x0a\x87\x0a")),
    _t("image/gif", ".gif", starts(b"GIF87a", b"GIF89a")),
    _t("image/webp", ".webp", riff(b"WEBP")),
    _t("application/vnd.microsoft.portable-executable", ".exe", starts(b"MZ")),
    _t("application/x-elf", "", starts(b"\x7fELF"),
       _t("application/x-object", "", elf(1)),
       _t("application/x-executable", "", elf(2)),
       _t("application/x-sharedlib", ".so", elf(3)),
       _t("application/x-coredump", "", elf(4))),
    _t("application/x-archive", ".a", starts(b"!<arch>"),
       _t("application/vnd.debian.binary-package", ".deb", at(8, b"debian-binary")),
       aka="application/x-unix-archive"),
    _t("application/x-tar", ".tar", tar),
    _t("application/x-xar", ".xar", starts(b"xar!")),
    _t("application/x-bzip2", ".bz2", starts(b"BZh")),
    _t("application/fits", ".fits", starts(b"SIMPLE  =" + b" " * 20 + b"T"), aka="image/fits"),
    _t("image/tiff", ".tiff", starts(b"II*\x00", b"MM\x00*")),
    _t("image/bmp", ".bmp", bmp, aka="image/x-bmp image/x-ms-bmp"),
    _t("application/vnd.lotus-1-2-3", ".123", lotus),
    _t("image/x-icon", ".ico", starts(b"\x00\x00\x01\x00", b"\x00\x00\x02\x00")),
    _t("audio/flac", ".flac", starts(b"fLaC\x00\x00\x00\x22")),
    _t("audio/midi", ".midi", starts(b"MThd"),
       aka="audio/mid audio/sp-midi audio/x-mid audio/x-midi"),
    _t("audio/ape", ".ape", starts(_APE)),
    _t("audio/musepack", ".mpc", starts(b"MPCK")),
    _t("audio/amr", ".amr", starts(b"#!AMR"), aka="audio/amr-nb"),
    _t("audio/wav", ".wav", riff(b"WAVE"), aka="audio/x-wav audio/vnd.wave audio/wave"),
    _t("audio/aiff", ".aiff", aiff, aka="audio/x-aiff"),
    _t("audio/basic", ".au", starts(b".snd")),
    _t("video/mpeg", ".mpeg", mpeg),
    _t("video/quicktime", ".mov", quicktime),
    _t("video/mp4", ".mp4", mp4, *_MP4_KINDS),
    _t("video/webm", ".webm", matroska(b"webm"), aka="audio/webm"),
    _t("video/x-msvideo", ".avi", avi, aka="video/avi video/msvideo"),
    _t("video/x-flv", ".flv", starts(b"FLV\x01")),
    _t("video/matroska", ".mkv", matroska(b"matroska"), aka="video/x-matroska"),
    _t("video/x-ms-asf", ".asf", starts(_ASF), aka="video/asf video/x-ms-wmv"),
    _t("audio/aac", ".aac", starts(b"\xff\xf1", b"\xff\xf9")),
    _t("audio/x-unknown", ".voc", starts(b"Creative Voice File")),
    _t("application/vnd.apple.mpegurl", ".m3u", starts(b"#EXTM3U\n", b"#EXTM3U\r\n"),
       aka="audio/mpegurl application/x-mpegurl"),
    _t("application/vnd.rn-realmedia-vbr", ".rmvb", starts(b".RMF")),
    _t("application/gzip", ".gz", starts(b"\x1f\x8b"), aka=_GZIP_ALIASES),
    _t("application/x-java-applet", ".class", java_class),
    _t("application/x-shockwave-flash", ".swf", starts(b"CWS", b"FWS", b"ZWS")),
    _t("application/x-chrome-extension", ".crx", crx),
    _t("font/ttf", ".ttf", ttf, aka="font/sfnt application/x-font-ttf application/font-sfnt"),
    _t("font/woff", ".woff", starts(b"wOFF")),
    _t("font/woff2", ".woff2", starts(b"wOF2")),
    _t("font/otf", ".otf", otf),
    _t("font/collection", ".ttc", ttc),
    _t("application/vnd.ms-fontobject", ".eot", eot),
    _t("application/wasm", ".wasm", starts(b"\x00asm")),
    _t("application/vnd.shx", ".shx", starts(b"\x00\x00\x27\x0a"),
       _t("application/vnd.shp", ".shp", shp)),
    _t("application/x-dbf", ".dbf", dbf),
    _t("application/dicom", ".dcm", at(128, b"DICM")),
    _t("application/vnd.rar", ".rar", starts(b"Rar!\x1a\x07\x00", b"Rar!\x1a\x07\x01\x00"),
       aka="application/x-rar-compressed application/x-rar"),
    _t("image/vnd.djvu", ".djvu", djvu),
    _t("application/x-mobipocket-ebook", ".mobi", at(60, b"BOOKMOBI")),
    _t("application/x-ms-reader", ".lit", starts(b"ITOLITLS")),
    _t("image/bpg", ".bpg", starts(b"BPG\xfb")),
    _t("application/cbor", ".cbor", starts(b"\xd9\xd9\xf7")),
    _t("application/vnd.sqlite3", ".sqlite", starts(b"SQLite format 3\x00"),
       aka="application/x-sqlite3"),
    _t("image/vnd.dwg", ".dwg", dwg, aka=_DWG_ALIASES),
    _t("application/vnd.nintendo.snes.rom", ".nes", starts(b"NES\x1a")),
    _t("application/x-ms-shortcut", ".lnk", starts(b"L\x00\x00\x00\x01\x14\x02\x00")),
    _t("application/x-mach-binary", ".macho", macho),
    _t("audio/qcelp", ".qcp", riff(b"QLCM")),
    _t("image/x-icns", ".icns", starts(b"icns")),
    _t("image/vnd.radiance", ".hdr", starts(b"#?RADIANCE\n")),
    _t("application/marc", ".mrc", marc),
    _t("application/x-msaccess", ".mdb", at(4, b"Standard Jet DB")),
    _t("application/x-msaccess", ".accdb", at(4, b"Standard ACE DB")),
    _t("application/zstd", ".zst", zstd),
    _t("application/vnd.ms-cab-compressed", ".cab", starts(b"MSCF\x00\x00\x00\x00")),
    _t("application/x-rpm", ".rpm", starts(b"\xed\xab\xee\xdb", b"drpm")),
    _t("application/x-xz", ".xz", starts(b"\xfd7zXZ\x00")),
    _t("application/lzip", ".lz", starts(b"LZIP"), aka="application/x-lzip"),
    _t("application/x-bittorrent", ".torrent", starts(b"d8:announce")),
    _t("application/x-cpio", ".cpio", cpio),
    _t("application/tzif", "", tzif),
    _t("image/x-xcf", ".xcf", starts(b"gimp xcf")),
    _t("image/x-gimp-pat", ".pat", at(20, b"GPAT")),
    _t("image/x-gimp-gbr", ".gbr", at(20, b"GIMP")),
    _t("model/gltf-binary", ".glb", starts(b"glTF\x02\x00\x00\x00", b"glTF\x01\x00\x00\x00")),
    _t("application/x-installshield", ".cab", installshield),
    _t("image/jxr", ".jxr", starts(b"II\xbc\x01"), aka="image/vnd.ms-photo"),
    _t("application/vnd.apache.parquet", ".parquet", starts(b"PAR1"), aka="application/x-parquet"),
    _t("application/onenote", ".one", starts(_ONENOTE)),
    _t("application/vnd.ms-htmlhelp", ".chm", starts(b"ITSF\x03\x00\x00\x00\x60\x00\x00\x00")),
    _t("application/vnd.wordperfect", ".wpd", wordperfect),
    _t("image/vnd.dxf", ".dxf", starts(*_DXF)),
    _t("application/grib", ".grb", versioned(b"GRIB", (1, 2))),
    _t("application/zlib", "", zlib_stream),
    _t("application/x-os2-inf", ".inf", starts(b"HSP\x01\x9b\x00")),
    _t("application/x-os2-hlp", ".hlp", starts(b"HSP\x10\x9b\x00")),
    _t("application/vnd.framemaker", ".fm", framemaker),
    _t("application/bufr", ".bufr", versioned(b"BUFR", (3, 4))),
    _t("application/x-bytecode.python", ".pyc", pyc),
    _t("application/vnd.tcpdump.pcap", ".pcap", pcap),
    # late: it searches the whole head for frames, which zips and mp4s may contain
    _t("audio/mpeg", ".mp3", mp3, aka="audio/x-mpeg audio/mp3"),
    _t("text/plain", ".txt", plain_text, *_TEXT_KINDS),
)

