"""Turn a resident's message into a canonical form the matcher can compare.

Traditional → Simplified, full-width → half-width, lower case, common Cantonese words and typos
mapped to standard Mandarin, punctuation and filler words dropped.
"""
from __future__ import annotations

import functools
import re
import unicodedata

# Cantonese words and phrases → Mandarin. Keys may be Traditional or Simplified: they are normalised
# the same way as the input before use. Longer keys win over shorter ones.
CANTONESE = {
    "乜嘢": "什么", "咩嘢": "什么", "乜野": "什么", "咩野": "什么", "咩": "什么", "乜": "什么",
    "點樣": "怎么", "点样": "怎么", "點算": "怎么办", "點解": "为什么",
    "點申請": "怎么申请", "點攞": "怎么拿", "點搞": "怎么办",
    "邊度": "哪里", "邊處": "哪里", "邊個": "谁", "邊間": "哪个", "去邊度": "去哪里", "喺邊度": "在哪里", "喺邊": "在哪",
    "嗰度": "那里", "呢度": "这里", "呢個": "这个", "嗰個": "那个",
    "係咪": "是不是", "係唔係": "是不是", "唔係": "不是", "我係": "我是", "佢係": "他是", "就係": "就是",
    "都係": "都是", "係要": "是要", "係唔": "是不", "係邊": "是哪",
    "唔該": "谢谢", "多謝": "谢谢", "唔使": "不用", "唔駛": "不用", "唔": "不",
    "冇": "没有", "無咗": "没了",
    "過身": "去世", "過咗身": "去世", "走咗": "去世了", "老咗": "去世了", "仙遊": "去世",
    "阿爸": "爸爸", "老豆": "爸爸", "老竇": "爸爸", "阿媽": "妈妈", "老母": "妈妈",
    "阿爺": "爷爷", "阿嫲": "奶奶", "阿公": "外公", "阿婆": "外婆", "屋企人": "家人", "屋企": "家",
    "細路": "小孩", "細蚊仔": "小孩", "仔女": "子女", "老婆": "妻子", "老公": "丈夫",
    "咗": "了", "喺": "在", "嘅": "的", "攞": "拿", "俾": "给", "畀": "给", "佢哋": "他们", "佢": "他",
    "哋": "们", "嚟": "来", "睇": "看", "搵": "找", "揾": "找", "啲": "些", "咁": "这么",
    "幾時": "什么时候", "幾耐": "多久", "幾多": "多少", "諗": "想", "要唔要": "要不要",
    "得唔得": "行不行", "可唔可以": "可不可以", "有冇": "有没有", "做緊": "在做", "返工": "上班",
    "開到": "开到", "搞掂": "办好", "嘢": "东西",
}

# Common typos and homophones → the intended word.
TYPOS = {
    "居柱": "居住", "居往": "居住", "巨住": "居住", "局住": "居住", "居主": "居住", "据住": "居住",
    "证名": "证明", "正明": "证明", "政明": "证明", "证眀": "证明", "征明": "证明", "症明": "证明",
    "低宝": "低保", "底保": "低保", "抵保": "低保", "氐保": "低保",
    "医宝": "医保", "社宝": "社保", "养老保检": "养老保险",
    "无犯最": "无犯罪", "无犯醉": "无犯罪", "无犯罪纪录": "无犯罪记录", "犯罪纪录": "犯罪记录", "吴犯罪": "无犯罪",
    "户藉": "户籍", "户集": "户籍", "户记": "户籍", "户口薄": "户口簿", "户口本": "户口簿",
    "结昏": "结婚", "婚烟": "婚姻", "认正": "认证",
    "残废": "残疾", "残急": "残疾", "死往": "死亡", "死忘": "死亡", "去逝": "去世", "过逝": "过世",
    "收人证明": "收入证明", "亲戚关系": "亲属关系", "亲属关糸": "亲属关系", "关糸": "关系",
    "独身子女": "独生子女", "政申": "政审", "正审": "政审", "宅机地": "宅基地", "宅基第": "宅基地",
    "权数": "权属", "权署": "权属", "收样": "收养", "志原": "志愿", "志原者": "志愿者",
    "失宗": "失踪", "遗夫": "遗失", "出身证明": "出生证明", "粤省市": "粤省事", "月省事": "粤省事",
}

# Filler words that carry no meaning for the catalogue.
FILLERS = (
    "请问一下", "请问", "问一下", "问下", "想问下", "想问", "我想问", "你好", "您好", "麻烦你", "麻烦您", "麻烦",
    "谢谢", "一下", "劳驾", "打扰了", "打扰", "老师", "同志", "领导", "靓仔", "靓女", "姑娘",
    "啊", "呀", "吧", "呢", "吗", "嘛", "哦", "噢", "喔", "咯", "啰", "啦", "哈", "嗯", "哎", "唉",
    "㗎", "喎", "㖞", "嘞", "吖", "咋", "啩", "呃", "诶",
)

_KEEP = re.compile(r"[^0-9a-z\u3400-\u9fff\U00020000-\U0002ffff]+")


@functools.lru_cache(maxsize=1)
def _t2s():
    from opencc import OpenCC

    return OpenCC("t2s")


_char_cache: dict[str, str] = {}


def to_simplified(text: str) -> str:
    """Traditional → Simplified, character by character (cached, so fast after warm-up)."""
    out = []
    for ch in text:
        if ch < "\u0080":
            out.append(ch)
            continue
        conv = _char_cache.get(ch)
        if conv is None:
            conv = _t2s().convert(ch)
            _char_cache[ch] = conv
        out.append(conv)
    return "".join(out)


def _basic(text: str) -> str:
    """Width, case and script folding without any word mapping."""
    return to_simplified(unicodedata.normalize("NFKC", text).lower())


@functools.lru_cache(maxsize=1)
def _replacer() -> tuple[re.Pattern, dict[str, str]]:
    mapping: dict[str, str] = {}
    for table in (CANTONESE, TYPOS):
        for src, dst in table.items():
            key = _basic(src)
            if key and key != dst:
                mapping.setdefault(key, dst)
    for word in FILLERS:
        mapping.setdefault(_basic(word), "")
    keys = sorted(mapping, key=len, reverse=True)
    return re.compile("|".join(re.escape(k) for k in keys)), mapping


def normalize(text: str) -> str:
    """The canonical form of ``text`` used for matching (may be empty)."""
    text = _basic(text or "")
    text = _KEEP.sub("", text)
    pattern, mapping = _replacer()
    return pattern.sub(lambda m: mapping[m.group(0)], text)


def normalize_term(term: str) -> str:
    """Normalise a catalogue name, alias or keyword (same rules as messages, fillers kept)."""
    text = _KEEP.sub("", _basic(term or ""))
    pattern, mapping = _replacer()
    return pattern.sub(lambda m: mapping[m.group(0)] or m.group(0), text)
