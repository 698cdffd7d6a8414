"""Deterministic benchmark datasets for `python -m benchmarks.datasets`.

Files are generated under benchmarks/.data/ (gitignored) from a fixed seed, so every run and
every machine measures the same bytes; their sha256 is recorded with the results.
"""

from __future__ import annotations

import hashlib
import os
import random
from collections.abc import Callable

import orjson

DATA_DIR = os.path.join(os.path.dirname(__file__), ".data")
SEED = 12345

# Several languages, each its own vocabulary and script; a row picks one language (mostly
# English, as real support data), so token counts, bytes per token and UTF-8 escapes vary.
_LANGUAGES: tuple[tuple[str, int], ...] = (
    ("order shipping refund account password delivery package tracking customer support "
     "invoice payment card address update cancel return exchange warranty product store "
     "online help question answer issue problem please thank you today tomorrow week "
     "number email phone service team manager request status confirm check send receive "
     "item size color price discount coupon code member points balance login reset link "
     "click page app mobile browser error message wait minute hour day business office "
     "open closed holiday location city street country quickly soon again still already "
     "never always sometimes usually the a to of and in", 10),
    ("bestellung versand rückerstattung konto passwort lieferung paket kunde hilfe frage "
     "antwort rechnung zahlung karte adresse straße größe farbe preis rabatt heute morgen "
     "woche bitte danke schnell immer nie der die das und mit für", 2),
    ("commande livraison remboursement compte mot passe colis client aide question réponse "
     "facture paiement carte adresse taille couleur prix réduction aujourd'hui demain "
     "semaine s'il vous plaît merci déjà toujours jamais le la les et avec pour café naïve",
     2),
    ("pedido envío reembolso cuenta contraseña entrega paquete cliente ayuda pregunta "
     "respuesta factura pago tarjeta dirección tamaño color precio descuento hoy mañana "
     "semana por favor gracias rápido siempre nunca el la los y con para", 2),
    ("注文 配送 返金 アカウント パスワード 配達 荷物 お客様 サポート 質問 回答 請求書 支払い "
     "カード 住所 サイズ 色 価格 割引 今日 明日 週 お願いします ありがとう 東京 大阪", 1),
    ("заказ доставка возврат аккаунт пароль посылка клиент помощь вопрос ответ счёт оплата "
     "карта адрес размер цвет цена скидка сегодня завтра неделя пожалуйста спасибо", 1),
    ("订单 发货 退款 账户 密码 配送 包裹 客户 支持 问题 回答 发票 付款 银行卡 地址 尺寸 颜色 "
     "价格 折扣 今天 明天 星期 请 谢谢 北京 上海", 1),
)
_VOCABULARIES = tuple(words.split() for words, _ in _LANGUAGES)
_WEIGHTS = tuple(weight for _, weight in _LANGUAGES)
_SYSTEMS = (
    "You are a helpful store support assistant.",
    "Answer briefly and politely; ask for the order number when it is missing.",
    "Du bist ein freundlicher Kundendienst.",
    "",  # no system message
)


def _sentence(rng: random.Random, words: list[str], lo: int, hi: int) -> str:
    picked = [rng.choice(words) for _ in range(rng.randint(lo, hi))]
    # Mixed endings: no common suffix, so legacy's separator and stop fixes fire.
    return " ".join(picked).capitalize() + rng.choice(".?!")


def _text(rng: random.Random, words: list[str], sentences: tuple[int, int],
          length: tuple[int, int]) -> str:
    # Sentence lengths vary per sentence: short (2 words) to long (30 words).
    return " ".join(_sentence(rng, words, *length) for _ in range(rng.randint(*sentences)))


def _words(rng: random.Random) -> list[str]:
    return rng.choices(_VOCABULARIES, weights=_WEIGHTS)[0]


def prompt_completion_row(rng: random.Random) -> dict[str, object]:
    words = _words(rng)
    return {
        "prompt": _text(rng, words, (2, 4), (2, 30)),
        "completion": " " + _text(rng, words, (1, 3), (2, 24)),
    }


def chat_row(rng: random.Random) -> dict[str, object]:
    """1 to 3 user/assistant turns, with one of several system messages or none."""
    words = _words(rng)
    system = rng.choice(_SYSTEMS)
    messages = [{"role": "system", "content": system}] if system else []
    for _ in range(rng.choices((1, 2, 3), weights=(6, 3, 1))[0]):
        messages.append({"role": "user", "content": _text(rng, words, (2, 4), (2, 30))})
        messages.append({"role": "assistant", "content": _text(rng, words, (1, 3), (2, 24))})
    return {"messages": messages}


def dirty_line(rng: random.Random, i: int) -> bytes:
    """One of the defects of the 5%-dirty file: invalid JSON, bad role, empty content, copy."""
    kind = i % 4
    if kind == 0:
        return b'{"messages": [{"role": "user", "content": "cut'
    if kind == 1:
        return orjson.dumps({"messages": [{"role": "robot", "content": "hi"}]})
    if kind == 2:
        return orjson.dumps({"messages": [{"role": "user", "content": ""},
                                          {"role": "assistant", "content": "x"}]})
    return orjson.dumps(chat_row(random.Random(7)))  # the same row every time: duplicates


def ensure(name: str, rows: int, make: Callable[[random.Random, int], bytes]) -> str:
    """Generate DATA_DIR/name once (same seed, same bytes); return its path."""
    os.makedirs(DATA_DIR, exist_ok=True)
    path = os.path.join(DATA_DIR, name)
    if os.path.exists(path):
        return path
    rng = random.Random(SEED)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        buf: list[bytes] = []
        for i in range(rows):
            buf.append(make(rng, i))
            if len(buf) >= 10_000:
                f.write(b"\n".join(buf) + b"\n")
                buf.clear()
        if buf:
            f.write(b"\n".join(buf) + b"\n")
    os.replace(tmp, path)
    return path


def pc_file(rows: int) -> str:
    return ensure(f"pc{rows // 1000}k-v2.jsonl", rows,
                  lambda rng, _i: orjson.dumps(prompt_completion_row(rng)))


def chat_file(rows: int) -> str:
    return ensure(f"chat{rows // 1000}k-v2.jsonl", rows,
                  lambda rng, _i: orjson.dumps(chat_row(rng)))


def dirty_file(rows: int) -> str:
    def make(rng: random.Random, i: int) -> bytes:
        return dirty_line(rng, i // 20) if i % 20 == 19 else orjson.dumps(chat_row(rng))

    return ensure(f"chat{rows // 1000}k-v2-dirty.jsonl", rows, make)


def sha256_of(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()
