# ruff: noqa: RUF001  (the patterns hold Cyrillic letters and full-width colons on purpose)
"""The new part of an e-mail reply, as people and their mail clients write it.

Pure: a plain-text body in, ``ReplyParts`` out (the visible reply, its signature and
the quoted history). No I/O; HTML is turned into text (with ``>`` for blockquotes)
before it gets here.

The "wrote" attribution lines of many languages, the "Sent from my phone" lines and
the closing phrases come from the ``mail-parser-reply`` package (a maintained Python
port of GitHub's email_reply_parser); on top of its data this module adds what it
lacks or matches too loosely: Outlook/Exchange header blocks in more languages (and
only as two or more consecutive header lines that start with the sender), Russian and
Portuguese attributions, Gmail's date-and-address lines (Japanese, Russian), forwarded
mail (kept whole: a forward is the customer's message), bottom-posted and interleaved
replies (answers below a quote are never lost) and a strict signature rule (a closing
phrase only counts on a line of its own near the end).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from mailparser_reply.constants import MAIL_LANGUAGES

__all__ = ["ReplyParts", "is_forward_subject", "split_reply", "visible_reply"]

_LIBRARY_LANGUAGES = tuple(code for code in MAIL_LANGUAGES if len(code) == 2)


def _library(key: str) -> list[str]:
    found: list[str] = []
    for code in _LIBRARY_LANGUAGES:
        value = MAIL_LANGUAGES[code].get(key)
        if isinstance(value, str) and value:
            found.append(value)
        elif isinstance(value, list):
            found.extend(item for item in value if item)
    return found


def _strip_quote(line: str) -> str:
    return re.sub(r"^(?:\s*>)+\s?", "", line).strip()


# -- attribution ("On <date>, <someone> wrote:") lines ---------------------------------

_LIBRARY_WROTE = [re.compile(p, re.IGNORECASE | re.MULTILINE) for p in _library("wrote_header")]
_WROTE_WORDS = (
    r"wrote|writes|schrieb|geschrieben|a écrit|escribió|escribio|ha scritto|scrisse|"
    r"schreef|geschreven|escreveu|napisał\(a\)|napisała|napisał|pisze|skrev|skriver|"
    r"написал\(а\)|написала|написал|пишет|kirjoitti|írta|yazdı|napsal\(a\)|"
    r"写道|寫道|のメール|さんは書きました|님이 작성"
)
_WROTE_END = re.compile(rf"(?:{_WROTE_WORDS})(?:\s+[^\s:：]+){{0,5}}\s*[:：]\s*$", re.IGNORECASE)
# Gmail in Japanese or Russian names no verb: "2024年3月4日(月) 10:15 Name <a@b>:".
_DATE_ADDRESS = re.compile(r"\d.*<[^<>\s@]+@[^<>\s]+>\)?\s*[:：]\s*$")
_WROTE_START = re.compile(
    r"^(?:Wiadomość napisana przez|Le .* a écrit|Em .* escreveu)\b", re.IGNORECASE
)


def _is_attribution(line: str) -> bool:
    text = _strip_quote(line)
    if not text or len(text) > 300:
        return False
    has_digit = any(ch.isdigit() for ch in text)
    if _WROTE_END.search(text) and (has_digit or "@" in text):
        return True
    if _DATE_ADDRESS.search(text) or (_WROTE_START.match(text) and text.endswith(":")):
        return True
    return any(pattern.fullmatch(text) for pattern in _LIBRARY_WROTE)


# -- separators and Outlook/Exchange header blocks -------------------------------------

_ORIGINAL = (
    r"Original Message|Ursprüngliche Nachricht|Originalnachricht|Message d'origine|"
    r"Mensaje original|Messaggio originale|Oorspronkelijk bericht|Origineel bericht|"
    r"Mensagem original|Исходное сообщение|Oryginalna wiadomość|Wiadomość oryginalna|"
    r"Ursprungligt meddelande|Originalmeddelande|原始邮件|原始郵件|元のメッセージ|Original"
)
_SEPARATOR = re.compile(rf"^-{{2,}}\s*(?:{_ORIGINAL})\s*-{{2,}}$", re.IGNORECASE)
_RULE = re.compile(r"^(?:_{10,}|-{10,}|={10,})$")
_FROM_LABELS = (
    "from|von|de|da|van|från|fra|od|от|от кого|差出人|发件人|寄件者|寄件人|보낸 사람|lähettäjä"
)
_OTHER_LABELS = (
    "sent|to|cc|bcc|subject|date|reply-to|organization|"
    "gesendet|an|betreff|datum|kopie|"
    "envoyé|envoyé le|à|a|objet|date d'envoi|"
    "enviado|enviado el|enviada|para|asunto|fecha|cco|"
    "inviato|oggetto|data|"
    "verzonden|aan|onderwerp|"
    "assunto|enviada em|"
    "отправлено|кому|тема|дата|копия|"
    "wysłano|do|temat|dw|"
    "skickat|till|ämne|kopia|"
    "sendt|til|emne|"
    "送信日時|宛先|件名|日付|"
    "发送时间|收件人|主题|抄送|日期|寄件日期|收件者|主旨|副本|"
    "받는 사람|보낸 날짜|제목|참조"
)
_HEADER_LINE = re.compile(rf"^\*?(?P<label>{_FROM_LABELS}|{_OTHER_LABELS})\s?\*?\s?[:：]", re.I)


def _header_label(line: str) -> str | None:
    match = _HEADER_LINE.match(_strip_quote(line))
    return match.group("label").lower() if match else None


def _header_block_at(lines: Sequence[str], index: int) -> int:
    """How many header lines start at ``index``: 0 unless they name the sender first
    and are at least three, or two with an address (not a label quoted in prose)."""
    first = _header_label(lines[index])
    if first is None or not re.fullmatch(_FROM_LABELS, first, re.IGNORECASE):
        return 0
    count = 1
    while index + count < len(lines) and _header_label(lines[index + count]) is not None:
        count += 1
    block = " ".join(lines[index : index + count])
    return count if count >= 3 or (count == 2 and "@" in block) else 0


# -- forwards ---------------------------------------------------------------------------

_FORWARD_WORDS = (
    r"Forwarded message|Forwarded Message|Weitergeleitete Nachricht|Message transféré|"
    r"Mensaje reenviado|Messaggio inoltrato|Doorgestuurd bericht|Mensagem encaminhada|"
    r"Mensagem reencaminhada|Пересылаемое сообщение|Пересланное сообщение|"
    r"Przekazana wiadomość|Wiadomość przekazana|Vidarebefordrat meddelande|"
    r"転送メッセージ|转发的邮件|转发邮件|轉寄郵件"
)
_FORWARD_LINE = re.compile(rf"^-{{2,}}\s*(?:{_FORWARD_WORDS})\s*-{{2,}}$", re.IGNORECASE)
_FORWARD_BEGIN = re.compile(
    r"^(?:Begin forwarded message|Anfang der weitergeleiteten (?:Nachricht|E-Mail)|"
    r"Début du message (?:réexpédié|transféré)|Inicio del mensaje reenviado|"
    r"Inizio messaggio inoltrato|Begin doorgestuurd bericht|"
    r"Início da mensagem (?:reencaminhada|encaminhada)|Начало пересылаемого сообщения|"
    r"Początek przekazywanej wiadomości|Vidarebefordrat brev|転送されたメッセージ|"
    r"以下为转发的邮件)\s*[:：]$",
    re.IGNORECASE,
)
_FORWARD_SUBJECT = re.compile(
    r"^\s*(?:fwd?|wg|tr|rv|enc|i|doorst|vs|vb|pd|přep|пересл|转发|轉寄|転送)\s*[:：]",
    re.IGNORECASE,
)


def is_forward_subject(subject: str | None) -> bool:
    """True for ``Fwd:``/``FW:``/``WG:``/``TR:``/``RV:``/``I:``… subjects."""
    return bool(subject and _FORWARD_SUBJECT.match(subject))


def _is_forward_marker(line: str) -> bool:
    text = _strip_quote(line)
    return bool(_FORWARD_LINE.match(text) or _FORWARD_BEGIN.match(text))


# -- signatures ------------------------------------------------------------------------

_SENT_FROM = re.compile(
    "^(?:"
    + "|".join(
        [
            *_library("sent_from"),
            r"Sent from (?:my|Yahoo Mail|Outlook|Mail for)",
            r"Get Outlook for",
            r"Outlook für .* herunterladen",
            # "Get/Hämta/Obtenir/Scarica/Download Outlook for/för/pour/per/voor iOS".
            r".{0,30}\bOutlook\b.{0,12}\b(?:iOS|Android)\b",
            r"Von meinem .* gesendet",
            r"Envoyé de mon",
            r"Enviado desde",
            r"Enviado do meu",
            r"Enviado a partir do",
            r"Inviato da",
            r"Verstuurd (?:vanaf|met)",
            r"Отправлено (?:с|из)",
            r"Wysłane z",
            r"Skickat från",
            r"iPhoneから送信",
            r"Androidから送信",
            r"发自我的",
            r"從我的 ?iPhone 傳送",
        ]
    )
    + ")",
    re.IGNORECASE,
)
_CLOSINGS = [
    *(p.rstrip(",").rstrip() for p in _library("signatures") if not p.startswith("/")),
    r"(?:Best|Kind|Warm|Many thanks and|With kind) regards",
    r"Regards",
    r"Best wishes",
    r"Cheers",
    r"Many thanks",
    r"Thanks(?: again| a lot| in advance)?",
    r"Thank you(?: very much)?",
    r"(?:Yours )?(?:sincerely|truly)",
    r"(?:Mit )?(?:freundlichen|besten|herzlichen|lieben|viele|beste|liebe) Grüße?n?",
    r"Freundliche Grüße",
    r"(?:Bien )?cordialement",
    r"Bien à vous",
    r"(?:Meilleures|Sincères) salutations",
    r"(?:Un )?saludos?(?: cordiales)?",
    r"Atentamente",
    r"(?:Cordiali|Distinti) saluti",
    r"Saluti",
    r"(?:Met )?vriendelijke groet(?:en)?",
    r"(?:Hartelijke )?groet(?:en)?",
    r"Atenciosamente",
    r"(?:Com os melhores )?cumprimentos",
    r"Abraços?",
    r"С уважением",
    r"С наилучшими пожеланиями",
    r"Z poważaniem",
    r"Pozdrawiam(?:y)?",
    r"(?:Med )?vänliga hälsningar",
    r"Hälsningar",
    r"よろしくお願い(?:いた)?します。?",
    r"此致",
    r"祝好",
]
_CLOSING = re.compile(rf"^(?:{'|'.join(_CLOSINGS)})\s*[,.!]?$", re.IGNORECASE)
_SIGNATURE_TAIL_LINES = 7


def _short_tail(lines: Sequence[str], index: int, most: int) -> bool:
    """At most ``most`` short non-empty lines after ``index``: a signature, not an
    answer written below it (a bottom-posted reply is never folded away)."""
    rest = [other for other in lines[index + 1 :] if other.strip()]
    return len(rest) <= most and all(len(other.strip()) <= 80 for other in rest)


def _signature_start(lines: Sequence[str]) -> int | None:
    """Where the signature block begins in the reply's lines, or None."""
    for index, line in enumerate(lines):
        if index and line.rstrip() in {"--", "—"} and _short_tail(lines, index, 12):
            return index
    for index, line in enumerate(lines):
        text = line.strip()
        if (
            index
            and any(other.strip() for other in lines[:index])
            and len(text) <= 40
            and _CLOSING.match(text)
            and _short_tail(lines, index, _SIGNATURE_TAIL_LINES)
        ):
            return index
    return None


def _sent_from_lines(lines: Sequence[str]) -> list[int]:
    """ "Sent from my iPhone" and the like: folded one line at a time, so an answer
    written below one (bottom-posting from a phone) stays."""
    return [
        index
        for index, line in enumerate(lines)
        if index
        and any(other.strip() for other in lines[:index])
        and len(line.strip()) <= 90
        and _SENT_FROM.match(line.strip())
    ]


def _fold_signature(lines: Sequence[str]) -> tuple[list[str], list[str]]:
    """``(the text, its signature lines)``."""
    sent_from = _sent_from_lines(lines)
    folded = [lines[index] for index in sent_from]
    body = [line for index, line in enumerate(lines) if index not in sent_from]
    start = _signature_start(body)
    if start is not None and _squeeze(body[:start]):
        return body[:start], [*body[start:], "", *folded]
    return body, folded


# -- the split ------------------------------------------------------------------------


@dataclass(frozen=True)
class ReplyParts:
    """One e-mail body taken apart. ``reply`` is what an agent reads first;
    ``signature`` and ``quoted`` are what was folded away ("" when none)."""

    reply: str
    signature: str = ""
    quoted: str = ""
    forwarded: bool = False

    @property
    def trimmed(self) -> bool:
        return bool(self.signature or self.quoted)


def _squeeze(lines: Iterable[str]) -> str:
    out: list[str] = []
    for line in lines:
        line = line.rstrip()
        if not line and (not out or not out[-1]):
            continue
        out.append(line)
    return "\n".join(out).strip()


def _is_quoted(line: str) -> bool:
    return line.lstrip().startswith(">")


def _cut(lines: Sequence[str]) -> tuple[int, int] | None:
    """``(first line of the quoted history, lines of its attribution or header)``."""
    for index, line in enumerate(lines):
        text = _strip_quote(line)
        if not text:
            continue
        if _SEPARATOR.match(text):
            block = _header_block_at(lines, index + 1) if index + 1 < len(lines) else 0
            return index, 1 + block
        block = _header_block_at(lines, index)
        if block:
            return index, block
        if _is_attribution(line):
            return index, 1
        following = lines[index + 1] if index + 1 < len(lines) else ""
        # A long attribution (it has a date) wrapped by the mailer onto two lines.
        if (
            following.strip()
            and not _is_quoted(line)
            and any(c.isdigit() for c in line)
            and _is_attribution(f"{line.strip()} {following.strip()}")
        ):
            return index, 2
    return None


def _drop_quotes(lines: Sequence[str]) -> tuple[list[str], list[str]]:
    """``>`` quotes around new text: trailing quotes go; one quote above the answer
    (bottom-posting) goes; several (an interleaved answer) stay for context."""
    blocks: list[tuple[bool, list[str]]] = []
    for line in lines:
        quoted = _is_quoted(line)
        if not line.strip() and blocks:
            blocks[-1][1].append(line)
            continue
        if blocks and blocks[-1][0] == quoted:
            blocks[-1][1].append(line)
        else:
            blocks.append((quoted, [line]))
    trailing: list[str] = []
    while blocks and blocks[-1][0]:
        trailing = blocks.pop()[1] + trailing
    answered = sum(1 for quoted, _ in blocks if quoted)
    kept: list[str] = []
    dropped: list[str] = []
    for quoted, block in blocks:
        (dropped if quoted and answered == 1 else kept).extend(block)
    return kept, dropped + trailing


_GREETING = re.compile(
    r"^(?:hi|hello|hey|dear|good (?:morning|afternoon|evening)|hallo|moin|liebe[rs]?|"
    r"sehr geehrte[rs]?|guten (?:tag|morgen|abend)|bonjour|bonsoir|salut|madame|monsieur|"
    r"hola|buen(?:os|as) (?:días|tardes|noches)|estimad[oa]s?|ciao|buongiorno|buonasera|"
    r"gentile|salve|hoi|beste|goedemorgen|goedemiddag|olá|ola|bom dia|boa tarde|prezad[oa]s?|"
    r"здравствуйте|привет|добрый (?:день|вечер)|уважаем\w+|dzień dobry|cześć|witam|"
    r"szanown\w+|hej|hejsan|god (?:morgon|dag)|こんにちは|お世話になっております|"
    r"您好|你好|尊敬的)\b",
    re.IGNORECASE,
)


def _only_greeting(text: str) -> bool:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return len(lines) == 1 and len(lines[0]) <= 40 and bool(_GREETING.match(lines[0]))


def split_reply(text: str, subject: str | None = None) -> ReplyParts:
    """Take a plain-text body apart into the new reply, its signature and the quoted
    history. A forward (by its subject or a forward marker above any quote) is kept
    whole; text answered below or between quotes is kept; when nothing but a quote or
    a greeting would remain, the whole body is the reply."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    whole = _squeeze(lines)
    cut = _cut(lines)
    stop = cut[0] if cut else len(lines)
    if is_forward_subject(subject) or any(_is_forward_marker(x) for x in lines[:stop]):
        return ReplyParts(reply=whole, forwarded=True)
    quoted: list[str] = []
    sections = [list(lines)]
    if cut is not None:
        start, size = cut
        head, tail = list(lines[:start]), list(lines[start + size :])
        while head and (not head[-1].strip() or _RULE.match(head[-1].strip())):
            head.pop()
        tail_text = [line for line in tail if line.strip()]
        answered_below = (
            bool(tail_text)
            and _is_quoted(tail_text[0])
            and any(not _is_quoted(line) for line in tail_text)
        )
        if answered_below:
            # Each part keeps its own signature: one above the quote must not fold
            # away the answer written below it.
            sections, quoted = [head, tail], list(lines[start : start + size])
        else:
            sections, quoted = [head], list(lines[start:])
    body: list[str] = []
    folded: list[str] = []
    for section in sections:
        kept, dropped = _drop_quotes(section)
        section_body, section_signature = _fold_signature(kept)
        quoted += dropped
        body += [*section_body, ""]
        folded += [*section_signature, ""]
    signature = _squeeze(folded)
    reply = _squeeze(body)
    if not reply or (_only_greeting(reply) and quoted and not any(map(_is_quoted, quoted))):
        return ReplyParts(reply=whole)
    return ReplyParts(reply=reply, signature=signature, quoted=_squeeze(quoted))


def visible_reply(text: str, subject: str | None = None, *, keep_signature: bool = False) -> str:
    """The text an agent reads first: the reply, with its signature when kept."""
    parts = split_reply(text, subject)
    if keep_signature and parts.signature:
        return f"{parts.reply}\n\n{parts.signature}"
    return parts.reply
