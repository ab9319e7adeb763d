"""Words the parser knows: section headings in every language, TOC node names, months."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

LEVEL1_KINDS = frozenset({
    "summary", "introduction", "symptoms", "cause", "resolution", "workaround", "status",
    "more_information", "applies_to", "keywords",
})
LEVEL2_KINDS = frozenset({
    "hotfix_information", "prerequisites", "restart_requirement", "registry_information",
    "hotfix_replacement", "file_information",
})

# loadTOCNode(1, 'symptoms') names (the classic template keeps them English in every language)
TOC_NODES = {
    "summary": "summary", "introduction": "introduction", "symptoms": "symptoms",
    "symptom": "symptoms", "cause": "cause", "resolution": "resolution",
    "workaround": "workaround", "status": "status", "moreinformation": "more_information",
    "more_information": "more_information", "appliesto": "applies_to", "keywords": "keywords",
    "hotfixinformation": "hotfix_information", "prerequisites": "prerequisites",
    "restartrequirement": "restart_requirement", "registryinformation": "registry_information",
    "hotfixreplacementinformation": "hotfix_replacement",
    "fileinformation": "file_information", "techinicalinformation": "more_information",
}

# heading text (normalised: lower case, no accents, single spaces, no trailing colon) → kind
_HEADINGS: dict[str, tuple[str, ...]] = {
    "symptoms": (
        "symptoms", "symptom", "problem description", "problem", "symptome",
        "problembeschreibung", "sintomi", "sintomo", "symptomes", "sintomas", "symptomen",
        "現象", "症状", "症狀", "증상", "objawy", "priznaky", "tunnetut ongelmat",
    ),
    "cause": ("cause", "causes", "ursache", "causa", "cause:", "oorzaak", "原因", "原因。", "원인",
              "przyczyna", "orsak", "syy", "arsak", "arsag"),
    "resolution": (
        "resolution", "solution", "losung", "risoluzione", "soluzione", "resolucion",
        "solucion", "resolucao", "solucao", "oplossing", "解決方法", "解决方案", "解決方案",
        "해결 방법", "rozwiazanie", "losning", "ratkaisu",
    ),
    "workaround": (
        "workaround", "workarounds", "problemumgehung", "abhilfe", "losung umgehen",
        "soluzione alternativa", "metodo alternativo", "workaround:",
        "solution de contournement", "contournement", "methode de contournement",
        "solucion alternativa", "solucao alternativa", "tijdelijke oplossing",
        "回避策", "替代方法", "变通方法", "暫時解決方法", "해결 과정",
    ),
    "status": ("status", "stato", "statut", "estado", "situacao", "状況", "状态", "狀況", "상태"),
    "more_information": (
        "more information", "more info", "additional information", "further information",
        "weitere informationen", "mehr informationen", "informazioni",
        "ulteriori informazioni", "altre informazioni", "piu informazioni",
        "plus d'informations", "informations supplementaires", "mas informacion",
        "informacion adicional", "mais informacoes", "informacoes adicionais",
        "meer informatie", "詳細", "詳細情報", "更多信息", "其他信息", "其他相關資訊",
        "추가 정보", "technical information", "technische informationen",
    ),
    "summary": ("summary", "zusammenfassung", "sommario", "riepilogo", "resume", "resumen",
                "resumo", "samenvatting", "概要", "摘要", "요약", "about this update",
                "overview"),
    "introduction": ("introduction", "einfuhrung", "einleitung", "introduzione",
                     "introduccion", "introducao", "inleiding", "はじめに", "简介", "소개"),
    "applies_to": (
        "applies to", "apply to", "betrifft", "gilt fur", "si applica a", "s'applique a",
        "se aplica a", "aplica-se a", "van toepassing op", "対象製品", "适用于", "適用於",
        "the information in this article applies to",
        "die informationen in diesem artikel beziehen sich auf",
        "le informazioni in questo articolo si applicano a",
        "les informations contenues dans cet article s'appliquent au(x) produit(s) suivant(s)",
        "la informacion de este articulo se refiere a",
        "a informacao contida neste artigo aplica-se a", "この資料は以下の製品について記述したものです",
        "这篇文章中的信息适用于",
    ),
    "keywords": ("keywords", "keyword", "chiavi", "parole chiave:", "schlusselworter", "stichworter", "parole chiave",
                 "mots-cles", "mots cles", "palabras clave", "palavras-chave", "trefwoorden",
                 "キーワード", "关键字", "關鍵字", "키워드"),
    "hotfix_information": (
        "hotfix information", "hotfix informations", "hotfix-informationen",
        "hotfixinformationen", "informationen zum hotfix", "informazioni sull'hotfix",
        "informazioni sull'aggiornamento rapido", "informazioni hotfix",
        "informations sur le correctif", "informations de correctif",
        "informacion de la revision", "informacion del hotfix",
        "informacoes sobre o hotfix", "informacoes do hotfix", "hotfixgegevens",
        "hotfix-gegevens", "修正プログラムの情報", "修复程序信息", "hotfix download available",
        "software update information", "security update information", "update information",
    ),
    "prerequisites": (
        "prerequisites", "prerequisite", "voraussetzungen", "voraussetzung", "prerequisiti",
        "requisiti", "conditions prealables", "prerequis", "condition prealable",
        "requisitos previos", "requisitos", "pre-requisitos", "vereisten",
        "必要条件", "前提条件", "必备条件", "先决条件", "필수 구성 요소",
    ),
    "restart_requirement": (
        "restart requirement", "restart requirements", "restart information",
        "neustartanforderung", "neustartanforderungen", "neustart erforderlich",
        "erforderlicher neustart", "neustartanforderung:", "anforderungen fur den neustart",
        "neustartinformationen", "informationen zum neustart", "informations de redemarrage",
        "informacion de reinicio", "informazioni sul riavvio del computer", "necessita di riavvio", "requisiti per il riavvio", "requisito di riavvio",
        "riavvio necessario", "informazioni sul riavvio",
        "necessite de redemarrer", "necessite de redemarrage", "redemarrage requis",
        "condition de redemarrage", "conditions de redemarrage",
        "requisito de reinicio", "requisitos de reinicio", "requisito de reinicializacao",
        "requisitos de reinicializacao", "opnieuw opstarten", "vereiste voor opnieuw opstarten",
        "再起動の必要性", "再起動に関する情報", "重新启动要求", "重新启动需求", "重新開機需求",
    ),
    "registry_information": (
        "registry information", "registrierungsinformationen",
        "informationen zur registrierung", "informazioni del registro di sistema",
        "informazioni sul registro di sistema", "informations de registre",
        "informations sur le registre", "informacion del registro",
        "informacoes do registro", "registergegevens", "レジストリ情報", "注册表信息",
    ),
    "hotfix_replacement": (
        "hotfix replacement information", "hotfix replacement", "update replacement information",
        "replacement information", "removal information",
        "informationen zum hotfixersatz", "hotfix-ersetzungsinformationen",
        "informationen zum ersetzen des hotfixes", "ersetzungsinformationen",
        "informazioni sulla sostituzione dell'hotfix",
        "informazioni sulla sostituzione dell'aggiornamento rapido",
        "informazioni sulla sostituzione", "informations de remplacement du correctif",
        "informations sur le remplacement du correctif",
        "informacion de reemplazo de la revision", "informacion de reemplazo",
        "informacoes de substituicao do hotfix", "informacoes sobre substituicao",
        "修正プログラムの置き換え情報", "修正プログラムの置き換えに関する情報", "修复程序替换信息",
        "informationen zum ersetzen von updates", "update-ersetzungsinformationen",
        "informationen zur updateersetzung", "informations de remplacement de la mise a jour",
        "informazioni sulla sostituzione dell'aggiornamento",
        "informacion de reemplazo de la actualizacion",
    ),
    "file_information": (
        "file information", "additional file information", "file info", "dateiinformationen",
        "weitere dateiinformationen", "informazioni sui file", "informazioni sul file",
        "informations sur les fichiers", "informations sur le fichier",
        "informacion de archivos", "informacion del archivo", "informacion de archivo",
        "informacion sobre el archivo", "informacion de los archivos de la revision", "informacion de los archivos",
        "informacoes sobre o arquivo", "informacoes de arquivo", "informacoes sobre arquivos",
        "bestandsgegevens", "bestandsinformatie", "ファイル情報", "文件信息",
        "informations de fichier", "informations sur le fichier", "informazioni file",
        "file attributes",
    ),
}

# Headings of site chrome: their sections are navigation, not article text.
CHROME_HEADINGS = frozenset({
    "provide feedback on this information", "other support sites", "other resources",
    "community", "get help now", "article translations", "search related topics",
    "related support centers", "page tools", "related resources", "feedback",
    "was this information helpful?", "need more help?", "join the discussion",
    "stay informed", "did this solve your problem?", "properties", "article properties",
    "share", "print", "related articles", "related links", "top solutions",
    "help and support", "select language",
})

_LOOKUP: dict[str, str] = {}


def fold(text: str) -> str:
    """Lower-case, strip accents and punctuation at the ends, collapse spaces."""
    if not text.isascii():
        # drop Latin accents only: Japanese voicing marks are part of the letter
        text = unicodedata.normalize("NFKD", text)
        text = unicodedata.normalize("NFC", "".join(
            ch for ch in text if not "\u0300" <= ch <= "\u036f"))
    text = text.replace("’", "'").replace("\u200b", "").lower()
    text = " ".join(text.split()).strip(" \t:：.。-–—•|#*_")
    return text


for _kind, _names in _HEADINGS.items():
    for _name in _names:
        _LOOKUP.setdefault(fold(_name), _kind)


@lru_cache(maxsize=8192)
def heading_kind(text: str) -> str | None:
    """The section kind a heading names, or None when it is not a known heading."""
    key = fold(text)
    if not key:
        return None
    kind = _LOOKUP.get(key)
    if kind:
        return kind
    # "Resolution 1: Modify your code", "Cause 2", "Workaround 1 - …": numbered variants
    m = re.match(r"(symptoms?|cause|resolution|workaround)\s*\d+\b", key)
    if m:
        return "symptoms" if m.group(1).startswith("symptom") else m.group(1)
    # "Additional file information for Windows 7", "Hotfix replacement information:" …
    for prefix, k in (("additional file information", "file_information"),
                      ("file information", "file_information"),
                      ("restart requirement", "restart_requirement"),
                      ("hotfix replacement", "hotfix_replacement"),
                      ("registry information", "registry_information")):
        if key.startswith(prefix) and len(key) < len(prefix) + 60:
            return k
    return None


MONTHS = {
    # en
    "january": 1, "february": 2, "march": 3, "april": 4, "may": 5, "june": 6, "july": 7,
    "august": 8, "september": 9, "october": 10, "november": 11, "december": 12,
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "jun": 6, "jul": 7, "aug": 8, "sep": 9,
    "sept": 9, "oct": 10, "nov": 11, "dec": 12,
    # de
    "januar": 1, "jänner": 1, "februar": 2, "märz": 3, "marz": 3, "mai": 5, "juni": 6,
    "juli": 7, "oktober": 10, "dezember": 12, "okt": 10, "dez": 12,
    # fr
    "janvier": 1, "fevrier": 2, "février": 2, "mars": 3, "avril": 4, "juin": 6,
    "juillet": 7, "aout": 8, "août": 8, "septembre": 9, "octobre": 10, "novembre": 11,
    "decembre": 12, "décembre": 12,
    # it
    "gennaio": 1, "febbraio": 2, "marzo": 3, "aprile": 4, "maggio": 5, "giugno": 6,
    "luglio": 7, "agosto": 8, "settembre": 9, "ottobre": 10, "dicembre": 12,
    # es / pt
    "enero": 1, "febrero": 2, "abril": 4, "mayo": 5, "junio": 6, "julio": 7,
    "septiembre": 9, "setiembre": 9, "octubre": 10, "noviembre": 11, "diciembre": 12,
    "janeiro": 1, "fevereiro": 2, "março": 3, "maio": 5, "junho": 6, "julho": 7,
    "setembro": 9, "outubro": 10, "dezembro": 12,
    # nl
    "januari": 1, "februari": 2, "maart": 3, "mei": 5, "augustus": 8,
}
