"""The templates Hlasatel ships: Czech first, then English, German, Polish and Ukrainian.

Variables: title, period, places, sender, planned, reason, contact, and for a warning `warnings`, each
with event, severity, period, headline, description, instruction and web.
"""

from hlasatel_composer.domain.templates import AlertKind, TemplateText
from hlasatel_contracts import Language

# What an outage of each category is called; any other category is a disruption.
TITLES: dict[Language, dict[str, str]] = {
    Language.CS: {
        "water": "Odstávka vody",
        "electricity": "Přerušení dodávky elektřiny",
        "gas": "Přerušení dodávky plynu",
        "heating": "Přerušení dodávky tepla",
        "traffic": "Dopravní omezení",
        "waste": "Změna svozu odpadu",
        "": "Omezení",
    },
    Language.EN: {
        "water": "Water supply interruption",
        "electricity": "Power outage",
        "gas": "Gas supply interruption",
        "heating": "Heating outage",
        "traffic": "Traffic restriction",
        "waste": "Waste collection change",
        "": "Disruption",
    },
    Language.DE: {
        "water": "Unterbrechung der Wasserversorgung",
        "electricity": "Stromabschaltung",
        "gas": "Unterbrechung der Gasversorgung",
        "heating": "Unterbrechung der Wärmeversorgung",
        "traffic": "Verkehrseinschränkung",
        "waste": "Änderung der Müllabfuhr",
        "": "Störung",
    },
    Language.PL: {
        "water": "Przerwa w dostawie wody",
        "electricity": "Przerwa w dostawie prądu",
        "gas": "Przerwa w dostawie gazu",
        "heating": "Przerwa w dostawie ciepła",
        "traffic": "Utrudnienia w ruchu",
        "waste": "Zmiana wywozu odpadów",
        "": "Utrudnienia",
    },
    Language.UK: {
        "water": "Відключення води",
        "electricity": "Відключення електроенергії",
        "gas": "Відключення газу",
        "heating": "Відключення опалення",
        "traffic": "Обмеження руху",
        "waste": "Зміна вивезення відходів",
        "": "Обмеження",
    },
}


def title(language: Language, category: str) -> str:
    titles = TITLES[language]
    return titles.get(category, titles[""])


# "is over" in the languages where it agrees with the title's gender and number: "Odstávka vody skončila",
# "Přerušení dodávky tepla skončilo", "Utrudnienia w ruchu zakończone"
_OVER: dict[Language, dict[str, str]] = {
    Language.CS: {
        "water": "skončila", "electricity": "skončilo", "gas": "skončilo", "heating": "skončilo",
        "traffic": "skončilo", "waste": "skončila", "": "skončilo",
    },
    Language.PL: {
        "water": "zakończona", "electricity": "zakończona", "gas": "zakończona", "heating": "zakończona",
        "traffic": "zakończone", "waste": "zakończona", "": "zakończone",
    },
}  # fmt: skip


def over(language: Language, category: str) -> str | None:
    """The word that says an outage of the category is over, agreeing with its title; None where the
    language's templates need none."""
    words = _OVER.get(language)
    return None if words is None else words.get(category, words[""])


# What a message of each category is about, as its CAP <event> says when the city wrote it itself.
CATEGORY_NAMES: dict[Language, dict[str, str]] = {
    Language.CS: {
        "water": "Voda", "electricity": "Elektřina", "gas": "Plyn", "heating": "Teplo", "traffic": "Doprava",
        "waste": "Odpady", "culture": "Kultura", "city-council": "Zastupitelstvo města", "weather": "Počasí",
        "safety": "Bezpečnost",
    },
    Language.EN: {
        "water": "Water", "electricity": "Electricity", "gas": "Gas", "heating": "Heating",
        "traffic": "Traffic", "waste": "Waste", "culture": "Culture", "city-council": "City council",
        "weather": "Weather", "safety": "Safety",
    },
    Language.DE: {
        "water": "Wasser", "electricity": "Strom", "gas": "Gas", "heating": "Wärme", "traffic": "Verkehr",
        "waste": "Abfall", "culture": "Kultur", "city-council": "Stadtrat", "weather": "Wetter",
        "safety": "Sicherheit",
    },
    Language.PL: {
        "water": "Woda", "electricity": "Prąd", "gas": "Gaz", "heating": "Ciepło", "traffic": "Ruch drogowy",
        "waste": "Odpady", "culture": "Kultura", "city-council": "Rada miasta", "weather": "Pogoda",
        "safety": "Bezpieczeństwo",
    },
    Language.UK: {
        "water": "Вода", "electricity": "Електроенергія", "gas": "Газ", "heating": "Опалення",
        "traffic": "Дорожній рух", "waste": "Відходи", "culture": "Культура", "city-council": "Міська рада",
        "weather": "Погода", "safety": "Безпека",
    },
}  # fmt: skip


def category_name(language: Language, category: str) -> str:
    return CATEGORY_NAMES[language].get(category, category)


def _details(when: str, where: str, why: str, contact: str) -> str:
    return (
        f"{when}: {{{{ period }}}}\n{where}: {{{{ places }}}}\n"
        f"{{% if reason %}}{why}: {{{{ reason }}}}\n{{% endif %}}"
        f"{{% if contact %}}{contact}: {{{{ contact }}}}\n{{% endif %}}"
    )


def _warnings(when: str, what_to_do: str) -> str:
    return (
        "{% for w in warnings %}{{ w.event }}\n"
        f"{when}: {{{{ w.period }}}}\n"
        "{% if w.description %}{{ w.description }}\n{% endif %}"
        f"{{% if w.instruction %}}{what_to_do}: {{{{ w.instruction }}}}\n{{% endif %}}"
        "{% if w.web %}{{ w.web }}\n{% endif %}\n\n{% endfor %}"
    )


_CS = _details("Kdy", "Kde", "Důvod", "Kontakt")
_EN = _details("When", "Where", "Reason", "Contact")
_DE = _details("Wann", "Wo", "Grund", "Kontakt")
_PL = _details("Kiedy", "Gdzie", "Powód", "Kontakt")
_UK = _details("Коли", "Де", "Причина", "Контакт")
_EVENTS = "{{ warnings|map(attribute='event')|join(', ') }}"
_SMS_EVENTS = (
    "{% for w in warnings %}{{ w.event }} {{ w.period }}{% if not loop.last %}; {% endif %}{% endfor %}"
)

DEFAULTS: dict[Language, dict[AlertKind, TemplateText]] = {
    Language.CS: {
        AlertKind.ALERT: TemplateText(
            sms="{{ title }}: {{ period }}, {{ places }}.{% if reason %} Důvod: {{ reason }}.{% endif %}"
            "{% if contact %} Info: {{ contact }}{% endif %}",
            subject="{{ title }}: {{ period }}",
            text="{{ title }}{% if not planned %} (havárie){% endif %}\n\n" + _CS + "\nOznamuje {{ sender }}",
        ),
        AlertKind.UPDATE: TemplateText(
            sms="ZMĚNA: {{ title }} nově {{ period }}, {{ places }}."
            "{% if contact %} Info: {{ contact }}{% endif %}",
            subject="Změna: {{ title }}: {{ period }}",
            text="Změna oznámení: {{ title }}\n\nPlatí nově:\n" + _CS + "\nOznamuje {{ sender }}",
        ),
        AlertKind.RELEASED: TemplateText(
            sms="{{ title }} ({{ period }}) se po změně už netýká vaší adresy.",
            subject="Už se vás netýká: {{ title }}",
            text="{{ title }} ({{ period }}) byla změněna a vaší adresy se už netýká.\n\n"
            "Oznamuje {{ sender }}",
        ),
        AlertKind.CANCEL: TemplateText(
            sms="ZRUŠENO: {{ title }} {{ period }}, {{ places }} se nekoná.",
            subject="Zrušeno: {{ title }}: {{ period }}",
            text="Oznámení je zrušeno: {{ title }} se nekoná.\n\n" + _CS + "\nOznamuje {{ sender }}",
        ),
        AlertKind.ALL_CLEAR: TemplateText(
            sms="KONEC: {{ title }}, {{ places }}: vše je opět v pořádku.",
            subject="Konec: {{ title }}",
            text="{% if over %}{{ title }} {{ over }}{% else %}Konec: {{ title }}{% endif %}, vše je opět v "
            "pořádku.\n\nKde: {{ places }}\n\nOznamuje {{ sender }}",
        ),
        AlertKind.WARNING: TemplateText(
            sms="{{ sender }}: " + _SMS_EVENTS + ".",
            subject="Výstraha: " + _EVENTS,
            text="{{ sender }} varuje:\n\n" + _warnings("Kdy", "Doporučení"),
        ),
    },
    Language.EN: {
        AlertKind.ALERT: TemplateText(
            sms="{{ title }}: {{ period }}, {{ places }}.{% if reason %} Reason: {{ reason }}.{% endif %}"
            "{% if contact %} Info: {{ contact }}{% endif %}",
            subject="{{ title }}: {{ period }}",
            text="{{ title }}{% if not planned %} (emergency){% endif %}\n\n" + _EN + "\nFrom {{ sender }}",
        ),
        AlertKind.UPDATE: TemplateText(
            sms="CHANGED: {{ title }} now {{ period }}, {{ places }}."
            "{% if contact %} Info: {{ contact }}{% endif %}",
            subject="Changed: {{ title }}: {{ period }}",
            text="Change of notice: {{ title }}\n\nNow:\n" + _EN + "\nFrom {{ sender }}",
        ),
        AlertKind.RELEASED: TemplateText(
            sms="{{ title }} ({{ period }}) has changed and no longer affects your address.",
            subject="No longer affects you: {{ title }}",
            text="{{ title }} ({{ period }}) has changed and no longer affects your address.\n\n"
            "From {{ sender }}",
        ),
        AlertKind.CANCEL: TemplateText(
            sms="CANCELLED: {{ title }} {{ period }}, {{ places }} will not take place.",
            subject="Cancelled: {{ title }}: {{ period }}",
            text="This notice is cancelled: {{ title }} will not take place.\n\n"
            + _EN
            + "\nFrom {{ sender }}",
        ),
        AlertKind.ALL_CLEAR: TemplateText(
            sms="ALL CLEAR: {{ title }}, {{ places }} is over.",
            subject="All clear: {{ title }}",
            text="{{ title }} is over; everything is back to normal.\n\nWhere: {{ places }}\n\n"
            "From {{ sender }}",
        ),
        AlertKind.WARNING: TemplateText(
            sms="{{ sender }}: " + _SMS_EVENTS + ".",
            subject="Warning: " + _EVENTS,
            text="{{ sender }} warns:\n\n" + _warnings("When", "What to do"),
        ),
    },
    Language.DE: {
        AlertKind.ALERT: TemplateText(
            sms="{{ title }}: {{ period }}, {{ places }}.{% if reason %} Grund: {{ reason }}.{% endif %}"
            "{% if contact %} Info: {{ contact }}{% endif %}",
            subject="{{ title }}: {{ period }}",
            text="{{ title }}{% if not planned %} (Störfall){% endif %}\n\n"
            + _DE
            + "\nMitteilung von {{ sender }}",
        ),
        AlertKind.UPDATE: TemplateText(
            sms="ÄNDERUNG: {{ title }} jetzt {{ period }}, {{ places }}."
            "{% if contact %} Info: {{ contact }}{% endif %}",
            subject="Änderung: {{ title }}: {{ period }}",
            text="Geänderte Mitteilung: {{ title }}\n\nNeu:\n" + _DE + "\nMitteilung von {{ sender }}",
        ),
        AlertKind.RELEASED: TemplateText(
            sms="{{ title }} ({{ period }}) wurde geändert und betrifft Ihre Adresse nicht mehr.",
            subject="Betrifft Sie nicht mehr: {{ title }}",
            text="{{ title }} ({{ period }}) wurde geändert und betrifft Ihre Adresse nicht mehr.\n\n"
            "Mitteilung von {{ sender }}",
        ),
        AlertKind.CANCEL: TemplateText(
            sms="ABGESAGT: {{ title }} {{ period }}, {{ places }} findet nicht statt.",
            subject="Abgesagt: {{ title }}: {{ period }}",
            text="Diese Mitteilung ist aufgehoben: {{ title }} findet nicht statt.\n\n"
            + _DE
            + "\nMitteilung von {{ sender }}",
        ),
        AlertKind.ALL_CLEAR: TemplateText(
            sms="ENTWARNUNG: {{ title }}, {{ places }} ist beendet.",
            subject="Entwarnung: {{ title }}",
            text="{{ title }} ist beendet, alles ist wieder in Ordnung.\n\nWo: {{ places }}\n\n"
            "Mitteilung von {{ sender }}",
        ),
        AlertKind.WARNING: TemplateText(
            sms="{{ sender }}: " + _SMS_EVENTS + ".",
            subject="Warnung: " + _EVENTS,
            text="{{ sender }} warnt:\n\n" + _warnings("Wann", "Empfehlung"),
        ),
    },
    Language.PL: {
        AlertKind.ALERT: TemplateText(
            sms="{{ title }}: {{ period }}, {{ places }}.{% if reason %} Powód: {{ reason }}.{% endif %}"
            "{% if contact %} Info: {{ contact }}{% endif %}",
            subject="{{ title }}: {{ period }}",
            text="{{ title }}{% if not planned %} (awaria){% endif %}\n\n"
            + _PL
            + "\nKomunikat: {{ sender }}",
        ),
        AlertKind.UPDATE: TemplateText(
            sms="ZMIANA: {{ title }} teraz {{ period }}, {{ places }}."
            "{% if contact %} Info: {{ contact }}{% endif %}",
            subject="Zmiana: {{ title }}: {{ period }}",
            text="Zmiana komunikatu: {{ title }}\n\nObecnie:\n" + _PL + "\nKomunikat: {{ sender }}",
        ),
        AlertKind.RELEASED: TemplateText(
            sms="{{ title }} ({{ period }}) została zmieniona i nie dotyczy już Twojego adresu.",
            subject="Już Cię nie dotyczy: {{ title }}",
            text="{{ title }} ({{ period }}) została zmieniona i nie dotyczy już Twojego adresu.\n\n"
            "Komunikat: {{ sender }}",
        ),
        AlertKind.CANCEL: TemplateText(
            sms="ODWOŁANE: {{ title }} {{ period }}, {{ places }} nie nastąpi.",
            subject="Odwołane: {{ title }}: {{ period }}",
            text="Komunikat odwołany: {{ title }} nie nastąpi.\n\n" + _PL + "\nKomunikat: {{ sender }}",
        ),
        AlertKind.ALL_CLEAR: TemplateText(
            sms="KONIEC: {{ title }}, {{ places }}: wszystko działa normalnie.",
            subject="Koniec: {{ title }}",
            text="{% if over %}{{ title }} {{ over }}{% else %}Koniec: {{ title }}{% endif %}, wszystko "
            "działa normalnie.\n\nGdzie: {{ places }}\n\n"
            "Komunikat: {{ sender }}",
        ),
        AlertKind.WARNING: TemplateText(
            sms="{{ sender }}: " + _SMS_EVENTS + ".",
            subject="Ostrzeżenie: " + _EVENTS,
            text="{{ sender }} ostrzega:\n\n" + _warnings("Kiedy", "Zalecenia"),
        ),
    },
    Language.UK: {
        AlertKind.ALERT: TemplateText(
            sms="{{ title }}: {{ period }}, {{ places }}.{% if reason %} Причина: {{ reason }}.{% endif %}"
            "{% if contact %} Інфо: {{ contact }}{% endif %}",
            subject="{{ title }}: {{ period }}",
            text="{{ title }}{% if not planned %} (аварія){% endif %}\n\n"
            + _UK
            + "\nПовідомляє {{ sender }}",
        ),
        AlertKind.UPDATE: TemplateText(
            sms="ЗМІНА: {{ title }} тепер {{ period }}, {{ places }}."
            "{% if contact %} Інфо: {{ contact }}{% endif %}",
            subject="Зміна: {{ title }}: {{ period }}",
            text="Зміна повідомлення: {{ title }}\n\nТепер:\n" + _UK + "\nПовідомляє {{ sender }}",
        ),
        AlertKind.RELEASED: TemplateText(
            sms="{{ title }} ({{ period }}) змінено, і це більше не стосується вашої адреси.",
            subject="Більше не стосується вас: {{ title }}",
            text="{{ title }} ({{ period }}) змінено, і це більше не стосується вашої адреси.\n\n"
            "Повідомляє {{ sender }}",
        ),
        AlertKind.CANCEL: TemplateText(
            sms="СКАСОВАНО: {{ title }} {{ period }}, {{ places }} не відбудеться.",
            subject="Скасовано: {{ title }}: {{ period }}",
            text="Повідомлення скасовано: {{ title }} не відбудеться.\n\n"
            + _UK
            + "\nПовідомляє {{ sender }}",
        ),
        AlertKind.ALL_CLEAR: TemplateText(
            sms="ВІДБІЙ: {{ title }}, {{ places }}: усе знову гаразд.",
            subject="Відбій: {{ title }}",
            text="{{ title }} завершено, усе знову гаразд.\n\nДе: {{ places }}\n\nПовідомляє {{ sender }}",
        ),
        AlertKind.WARNING: TemplateText(
            sms="{{ sender }}: " + _SMS_EVENTS + ".",
            subject="Попередження: " + _EVENTS,
            text="{{ sender }} попереджає:\n\n" + _warnings("Коли", "Рекомендації"),
        ),
    },
}
