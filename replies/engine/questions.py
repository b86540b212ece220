"""The separate things a message asks: "How do I change the address? And how long does the
refund take?" is two questions, each answered (or not) on its own.

A question is a sentence that asks something (``knowledge.engine.gaps.asks_something``), or a
clause of one that a connective opens ("…, and also how do I…", "另外", "außerdem"). Greetings
and closings are left out. Whether two questions ask distinct things is for retrieval to say
(the service drafts from what the knowledge base answers for each); this module only reads
the sentences, in any of the desk's languages.
"""

from __future__ import annotations

import re

from knowledge.engine.gaps import sentences

# A clause opened by a connective that adds a second matter ("also", "besides", 另外).
_ANOTHER_MATTER = re.compile(
    r"[,，、;；]\s*(?="
    r"(?:and also|also|and another thing|besides|y también|además|aparte|e também|além disso"
    r"|et aussi|aussi|par ailleurs|en plus|und außerdem|außerdem|zudem|ebenso)\b"
    r"|另外|還有|还有|此外|以及|それと|あと|また、|それから)",
    re.IGNORECASE,
)
_LEADING_GREETING = re.compile(
    r"^(?:hi|hello|hey|hola|buenas|bonjour|coucou|hallo|olá|ola|oi|你好|您好)"
    r"(?:\s+\w+)?\s*[,，!！]\s*",
    re.IGNORECASE,
)
# "And…", "Also,", "另外，": the connective joins the question to the message, and read on
# its own the question is clearer without it.
_LEADING_CONNECTIVE = re.compile(
    r"^(¿?)(?:(?:and also|and|also|plus|besides|y también|además|y|e também|além disso|e|et aussi"
    r"|et|aussi|par ailleurs|en plus|und außerdem|außerdem|zudem|und)\b[\s,:]*"
    r"|(?:另外|還有|还有|此外|以及|それと|あと|また|それから)[，,、:：\s]*)",
    re.IGNORECASE,
)
# A question: a question mark, or a question particle ending the sentence. A request
# ("please give me a clear answer") adds urgency to the question, not a second matter.
_QUESTION = re.compile(r"[?？¿]|(?:か|かな|でしょうか|ますか|ですか|[嗎吗呢])[。．\s]*$")
_WORD = re.compile(r"[^\W\d_]{4,}")
_CJK_CONTENT = re.compile(r"[\u4e00-\u9fff\u30a0-\u30ff]")
_KANA = re.compile(r"[\u3040-\u30ff]")
# A question too short to say what it is about ("Where is it?", "Can you help?", 何時届く？)
# leans on the sentences around it: it is part of the message's one question, not a second.
MIN_WORDS = 2
# Words that ask, but do not say about what.
_GENERIC = frozenset(
    [
        "please",
        "could",
        "would",
        "should",
        "help",
        "check",
        "know",
        "tell",
        "there",
        "this",
        "that",
        "what",
        "when",
        "where",
        "which",
        "with",
        "have",
        "does",
        "your",
        "about",
        "again",
        "still",
        "just",
        "anything",
        "something",
        "much",
        "many",
        "long",
        "cómo",
        "como",
        "cuánto",
        "cuanto",
        "puede",
        "pueden",
        "puedo",
        "favor",
        "pueden",
        "saber",
        "esto",
        "está",
        "tiene",
        "pour",
        "vous",
        "avez",
        "est-ce",
        "quand",
        "combien",
        "comment",
        "pouvez",
        "quoi",
        "können",
        "könnten",
        "bitte",
        "wann",
        "warum",
        "gibt",
        "kann",
        "habe",
        "haben",
        "wird",
        "dauert",
        "posso",
        "pode",
        "podem",
        "quanto",
        "quando",
        "onde",
        "isso",
        "está",
    ]
)
MIN_CJK = 6
# Japanese writes much of a question in kana: fewer kanji say as much.
MIN_CJK_JAPANESE = 4


def asked_questions(body: str, language: str = "") -> list[str]:
    """The questions ``body`` asks that say on their own what they are about, in order."""
    asked: list[str] = []
    for sentence in sentences(body):
        for clause in _ANOTHER_MATTER.split(sentence):
            clause = _LEADING_GREETING.sub("", clause.strip())
            clause = _LEADING_CONNECTIVE.sub(r"\1", clause).strip()
            if clause and _QUESTION.search(clause) and _says_enough(clause):
                asked.append(clause)
    return list(dict.fromkeys(asked))


def _says_enough(question: str) -> bool:
    cjk = len(_CJK_CONTENT.findall(question))
    words = len(
        {w.casefold() for w in _WORD.findall(question) if not _CJK_CONTENT.search(w)} - _GENERIC
    )
    needed = MIN_CJK_JAPANESE if _KANA.search(question) else MIN_CJK
    return words >= MIN_WORDS or cjk >= needed
