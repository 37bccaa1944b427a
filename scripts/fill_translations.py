"""Fill empty msgstr entries of a .po file from a JSON dictionary {msgid: msgstr}.

Usage: python scripts/fill_translations.py PO_FILE DICT.json
Only empty translations are filled; plural entries get the same text for every form
(Chinese has one plural form). Prints the msgids still untranslated.
"""

import json
import re
import sys


def fill(po_text: str, table: dict[str, str]) -> tuple[str, list[str]]:
    entries = po_text.split("\n\n")
    missing = []
    for index, entry in enumerate(entries):
        match = re.search(r'^msgid ((?:".*"\n?)+)', entry, re.M)
        if not match:
            continue
        msgid = "".join(re.findall(r'"(.*)"', match.group(1)))
        if not msgid:
            continue
        translation = table.get(msgid)
        if translation is None:
            if re.search(r'^msgstr(\[0\])? ""\s*$', entry, re.M):
                missing.append(msgid)
            continue
        escaped = translation.replace("\\", "\\\\").replace('"', '\\"')
        entry = re.sub(r'^msgstr ".*"(\n".*")*', f'msgstr "{escaped}"', entry, flags=re.M)
        entry = re.sub(r'^msgstr\[0\] ".*"(\n".*")*', f'msgstr[0] "{escaped}"', entry, flags=re.M)
        entry = entry.replace("#, fuzzy\n", "")
        entries[index] = entry
    return "\n\n".join(entries), missing


if __name__ == "__main__":
    po_path, table_path = sys.argv[1], sys.argv[2]
    with open(table_path, encoding="utf-8") as handle:
        table = json.load(handle)
    with open(po_path, encoding="utf-8") as handle:
        text, missing = fill(handle.read(), table)
    with open(po_path, "w", encoding="utf-8") as handle:
        handle.write(text)
    for msgid in missing:
        print("untranslated:", msgid)
