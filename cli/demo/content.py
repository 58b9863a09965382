"""What the demo seeder writes: Polish places, people and texts.

Plain data, no logic. Places are approximate points on real streets and in
real villages (good enough for a demo map, not for navigation). Texts avoid
putting street names into inflected positions: the address travels in its
own field, descriptions speak of landmarks.
"""

from __future__ import annotations

#: (street or place, lat, lon, locality) per tenant slug.
PLACES: dict[str, tuple[tuple[str, float, float, str], ...]] = {
    "zgierz": (
        ("pl. Jana Pawła II", 51.8557, 19.4066, "Zgierz"),
        ("ul. Długa", 51.8590, 19.4103, "Zgierz"),
        ("ul. Piątkowska", 51.8445, 19.4198, "Zgierz"),
        ("ul. 3 Maja", 51.8531, 19.4127, "Zgierz"),
        ("ul. Łęczycka", 51.8601, 19.3902, "Zgierz"),
        ("ul. Parzęczewska", 51.8702, 19.3885, "Zgierz"),
        ("ul. Aleksandrowska", 51.8470, 19.3840, "Zgierz"),
        ("ul. Łódzka", 51.8375, 19.4215, "Zgierz"),
        ("ul. Sienkiewicza", 51.8520, 19.4045, "Zgierz"),
        ("ul. Dąbrowskiego", 51.8575, 19.4170, "Zgierz"),
        ("ul. Narutowicza", 51.8545, 19.4010, "Zgierz"),
        ("ul. Rembowskiego", 51.8610, 19.4210, "Zgierz"),
        ("ul. Mielczarskiego", 51.8480, 19.4235, "Zgierz"),
        ("ul. Gałczyńskiego", 51.8648, 19.4130, "Zgierz"),
        ("ul. Struga", 51.8500, 19.4090, "Zgierz"),
        ("ul. Kilińskiego", 51.8536, 19.4155, "Zgierz"),
        ("ul. Popiełuszki", 51.8620, 19.4045, "Zgierz"),
        ("ul. Piłsudskiego", 51.8565, 19.3985, "Zgierz"),
        ("ul. Boya-Żeleńskiego", 51.8665, 19.4250, "Zgierz"),
        ("ul. Konstantynowska", 51.8420, 19.3960, "Zgierz"),
        ("os. 650-lecia", 51.8640, 19.4230, "Zgierz"),
        ("ul. Szczawińska", 51.8455, 19.4460, "Zgierz"),
        ("ul. Podleśna", 51.8755, 19.4210, "Zgierz-Chełmy"),
        ("ul. Rudunki", 51.8835, 19.4010, "Zgierz-Rudunki"),
        ("ul. Proboszczewice", 51.8790, 19.3625, "Zgierz-Proboszczewice"),
        ("ul. Kurak", 51.8400, 19.4400, "Zgierz-Kurak"),
        ("Park Miejski im. T. Kościuszki", 51.8515, 19.4200, "Zgierz"),
        ("Zalew Malinka", 51.8700, 19.4400, "Zgierz"),
    ),
    "nieporet": (
        ("Plac Wolności", 52.4300, 21.0300, "Nieporęt"),
        ("ul. Wojska Polskiego", 52.4325, 21.0265, "Nieporęt"),
        ("ul. Dworcowa", 52.4275, 21.0350, "Nieporęt"),
        ("ul. Jana Kazimierza", 52.4340, 21.0360, "Nieporęt"),
        ("ul. Kościelna", 52.4310, 21.0330, "Nieporęt"),
        ("ul. Zegrzyńska", 52.4400, 21.0250, "Nieporęt"),
        ("ul. Akacjowa", 52.4130, 20.9990, "Stanisławów Pierwszy"),
        ("ul. Ogrodowa", 52.4100, 21.0020, "Stanisławów Pierwszy"),
        ("ul. Lipowa", 52.3960, 21.0550, "Stanisławów Drugi"),
        ("ul. Wczasowa", 52.4470, 21.0330, "Białobrzegi"),
        ("ul. Rybaki", 52.4520, 21.0420, "Białobrzegi"),
        ("ul. Strużańska", 52.4010, 21.0420, "Kąty Węgierskie"),
        ("ul. Wolska", 52.3900, 21.0200, "Michałów-Grabina"),
        ("ul. Łąkowa", 52.3830, 21.0880, "Rembelszczyzna"),
        ("ul. Szkolna", 52.4200, 21.0800, "Wólka Radzymińska"),
        ("ul. Leśna", 52.4560, 21.0700, "Izabelin"),
        ("ul. Modlińska", 52.4350, 21.1050, "Józefów"),
        ("ul. Beniaminowska", 52.4450, 21.1100, "Beniaminów"),
        ("ul. Kwiatowa", 52.4750, 20.9950, "Wola Aleksandra"),
        ("ul. Polna", 52.4420, 20.9850, "Aleksandrów"),
    ),
}

#: Places on the water, for lakeshore litter.
SHORE_PLACES: dict[str, tuple[tuple[str, float, float, str], ...]] = {
    "nieporet": (
        ("plaża miejska, ul. Wczasowa", 52.4480, 21.0345, "Białobrzegi"),
        ("kąpielisko przy pomoście, ul. Rybaki", 52.4530, 21.0430, "Białobrzegi"),
        ("brzeg Kanału Żerańskiego przy moście", 52.4190, 21.0250, "Nieporęt"),
        ("Dzika Plaża", 52.4580, 21.0200, "Rynia"),
    ),
}

LANDMARKS = (
    "przy przystanku autobusowym",
    "naprzeciwko sklepu spożywczego",
    "obok szkoły podstawowej",
    "przy wjeździe na parking",
    "koło placu zabaw",
    "przy przejściu dla pieszych",
    "na wysokości bloku nr 7",
    "przy skrzyżowaniu",
    "obok apteki",
    "przy kościele",
    "przy wejściu do parku",
    "koło paczkomatu",
    "naprzeciwko przychodni",
    "przy zjeździe do garaży",
)

OPENINGS = ("", "", "", "Dzień dobry, ", "Witam, ", "Zgłaszam, że ", "Uprzejmie informuję, że ")

CLOSINGS = (
    "",
    "",
    " Proszę o interwencję.",
    " Proszę o szybką naprawę.",
    " Sytuacja trwa od kilku dni.",
    " Problem powtarza się od dłuższego czasu.",
    " Zgłaszam już drugi raz.",
    " Wieczorem jest tam bardzo niebezpiecznie.",
    " Dziękuję za zajęcie się sprawą.",
)

#: Descriptions per category (the resident's own words). `{landmark}` is filled in.
DESCRIPTIONS: dict[str, tuple[str, ...]] = {
    "pothole": (
        "duża dziura w jezdni {landmark}, samochody ją omijają i zjeżdżają na przeciwny pas.",
        "w asfalcie {landmark} zrobił się głęboki ubytek, po deszczu stoi w nim woda i nie widać, jak jest głęboki.",
        "kilka wyrw w nawierzchni {landmark}. Urwałem w jednej kołpak.",
        "zapadnięty asfalt {landmark}, dziura rośnie z każdym tygodniem.",
    ),
    "pavement_damage": (
        "płyty chodnikowe {landmark} są zapadnięte i wystają, łatwo się potknąć.",
        "brakuje kilku kostek w chodniku {landmark}, powstała dziura.",
        "krawężnik {landmark} jest wyłamany, trudno przejechać wózkiem.",
    ),
    "cycle_path_damage": (
        "korzenie drzew wypchnęły asfalt na drodze rowerowej {landmark}, można się przewrócić.",
        "na ścieżce rowerowej {landmark} jest głęboka dziura, wieczorem niewidoczna.",
        "zapadnięta nawierzchnia drogi dla rowerów wzdłuż Bzury, {landmark}.",
    ),
    "manhole_cover": (
        "pokrywa studzienki {landmark} jest przesunięta, w jezdni jest otwór.",
        "pęknięta pokrywa włazu {landmark}, klekocze przy każdym przejeździe i się zapada.",
        "brak kratki na studzience {landmark}! Ktoś może wpaść.",
    ),
    "road_barrier": (
        "barierka ochronna {landmark} jest wygięta po stłuczce i wystaje na chodnik.",
        "przewrócony słupek blokujący parkowanie {landmark}.",
        "brakuje fragmentu poręczy przy schodach {landmark}.",
    ),
    "illegal_parking": (
        "samochody codziennie parkują na chodniku {landmark}, piesi muszą schodzić na jezdnię.",
        "auto stoi na przejściu dla pieszych {landmark}, zasłania widoczność dzieciom.",
        "ktoś zaparkował na miejscu dla niepełnosprawnych bez karty {landmark}.",
        "dostawczak blokuje wjazd do posesji {landmark}.",
    ),
    "abandoned_vehicle": (
        "od kilku miesięcy {landmark} stoi samochód bez tablic, z wybitą szybą.",
        "porzucona przyczepa {landmark}, zarasta trawą.",
        "wrak auta z przebitymi oponami {landmark}, nikt go nie używa od zimy.",
    ),
    "litter": (
        "dużo śmieci na trawniku {landmark}: butelki, puszki, opakowania.",
        "rozbite szkło na chodniku {landmark}, dzieci chodzą tamtędy do szkoły.",
        "w krzakach {landmark} leżą strzykawki.",
        "liście i śmieci zalegają na chodniku {landmark} od tygodni.",
    ),
    "lakeshore_litter": (
        "na plaży zostały śmieci po weekendzie: butelki, opakowania po grillu, reklamówki.",
        "przy pomoście w wodzie pływają butelki i folia.",
        "kosze przy kąpielisku są przepełnione, śmieci rozwiewa wiatr po brzegu.",
        "na brzegu Zalewu leżą resztki po ognisku i potłuczone szkło.",
    ),
    "overflowing_bin": (
        "kosz na śmieci {landmark} jest przepełniony, śmieci leżą dookoła.",
        "publiczny kosz {landmark} nie był opróżniany od tygodnia.",
        "kosze na psie odchody {landmark} są pełne.",
    ),
    "missed_collection": (
        "nie odebrano odpadów zgodnie z harmonogramem, pojemniki stoją pełne.",
        "śmieciarka ominęła naszą ulicę, worki z segregacją leżą przy furtkach.",
        "odpady bio nie zostały odebrane już drugi raz z rzędu.",
    ),
    "illegal_dumping": (
        "w lesie {landmark} ktoś wysypał gruz i stare meble.",
        "dzikie wysypisko na nieużytku {landmark}: opony, worki ze śmieciami, części samochodowe.",
        "ktoś porzucił płyty eternitowe przy drodze {landmark}.",
        "przy rowie {landmark} leżą worki z odpadami budowlanymi.",
    ),
    "bulky_waste_dumped": (
        "przy altanie śmietnikowej {landmark} stoi stara kanapa i szafa.",
        "ktoś wystawił lodówkę i pralkę przy pojemnikach {landmark}.",
        "gabaryty przy śmietniku {landmark} leżą od dwóch tygodni.",
    ),
    "fallen_tree": (
        "po nocnej wichurze drzewo przewróciło się {landmark}.",
        "złamany konar leży {landmark}, trzeba go obchodzić jezdnią.",
        "duża gałąź spadła {landmark} i wisi na przewodach.",
    ),
    "tree_hazard": (
        "suche drzewo {landmark} mocno się pochyla nad chodnikiem.",
        "z topoli {landmark} spadają gałęzie, wiszą nad placem zabaw.",
        "drzewo {landmark} zasłania znak stopu.",
    ),
    "neglected_greenery": (
        "trawa na skwerze {landmark} nie była koszona od wiosny, sięga do kolan.",
        "żywopłot {landmark} tak zarósł, że zasłania widoczność przy wyjeździe.",
        "zniszczona rabata kwiatowa {landmark}, rosną same chwasty.",
    ),
    "streetlight_out": (
        "nie świeci latarnia {landmark}, wieczorem jest zupełnie ciemno.",
        "kilka lamp ulicznych {landmark} nie działa od tygodnia.",
        "latarnia {landmark} mruga i gaśnie.",
    ),
    "streetlight_daytime": (
        "latarnie {landmark} świecą przez cały dzień.",
        "oświetlenie uliczne {landmark} nie wyłącza się rano.",
    ),
    "lamp_post_damaged": (
        "słup oświetleniowy {landmark} jest przechylony po uderzeniu samochodu.",
        "otwarta wnęka w słupie latarni {landmark}, widać przewody.",
    ),
    "traffic_light_failure": (
        "sygnalizacja świetlna {landmark} jest wyłączona, samochody jadą na wyczucie.",
        "na przejściu {landmark} światło dla pieszych się nie zmienia, przycisk nie działa.",
        "sygnalizator {landmark} miga na żółto od rana.",
    ),
    "sign_damaged": (
        "znak drogowy {landmark} jest przewrócony.",
        "znak {landmark} jest przekręcony i kierowcy go nie widzą.",
        "ktoś pomalował znak {landmark} sprayem, jest nieczytelny.",
    ),
    "road_markings": (
        "pasy na przejściu dla pieszych {landmark} są prawie niewidoczne.",
        "wytarte linie na jezdni {landmark}, w nocy nie widać pasów ruchu.",
    ),
    "snow_on_road": (
        "jezdnia {landmark} nie jest odśnieżona, samochody się zakopują.",
        "pług nie przejechał naszej ulicy od rana, leży gruba warstwa śniegu.",
    ),
    "icy_pavement": (
        "chodnik {landmark} jest jednym lodowiskiem, nikt go nie posypał.",
        "oblodzone schody {landmark}, starsza pani się dziś przewróciła.",
    ),
    "icicles": (
        "z dachu kamienicy {landmark} zwisają ogromne sople nad chodnikiem.",
        "sople i nawis śnieżny nad wejściem do sklepu {landmark}.",
    ),
    "dead_animal": (
        "martwy kot leży na poboczu {landmark}.",
        "na jezdni {landmark} leży potrącony lis.",
        "martwy ptak przy ławce {landmark}, dzieci się bawią obok.",
    ),
    "stray_dog": (
        "bezpański pies biega {landmark}, zaczepia przechodniów.",
        "od kilku dni {landmark} kręci się wychudzony pies bez obroży.",
    ),
    "wild_animal": (
        "dziki ryją trawniki {landmark}, wieczorem podchodzą pod bloki.",
        "lis chodzi w biały dzień {landmark}.",
        "sarna zaplątała się w ogrodzenie {landmark}.",
    ),
    "injured_animal": (
        "potrącony pies leży na poboczu {landmark}, żyje, ale nie może wstać.",
        "ranny łabędź na brzegu {landmark}, ma złamane skrzydło.",
    ),
    "playground_damage": (
        "na placu zabaw {landmark} urwany jest łańcuch huśtawki.",
        "zjeżdżalnia {landmark} ma pękniętą ślizgawkę z ostrymi krawędziami.",
        "w piaskownicy {landmark} jest rozbite szkło.",
        "dziura w ogrodzeniu placu zabaw {landmark}, dzieci wybiegają na ulicę.",
    ),
    "night_noise": (
        "co noc głośna muzyka z lokalu {landmark} do trzeciej nad ranem.",
        "sąsiedzi urządzają głośne imprezy w nocy, nie da się spać.",
        "grupa osób pije i krzyczy w nocy {landmark}.",
    ),
    "construction_noise": (
        "budowa {landmark} pracuje w niedzielę od szóstej rano.",
        "hałasująca sprężarka na terenie zakładu {landmark} działa całą noc.",
    ),
    "graffiti": (
        "świeże graffiti na elewacji {landmark}.",
        "wulgarne napisy na wiacie przystankowej {landmark}.",
        "pomalowany sprayem mur {landmark}.",
    ),
    "damaged_property": (
        "połamana ławka {landmark}.",
        "wybita szyba w wiacie przystankowej {landmark}, szkło na chodniku.",
        "zniszczona tablica ogłoszeniowa {landmark}.",
    ),
    "blocked_drain": (
        "zapchana kratka ściekowa {landmark}, po deszczu stoi duża kałuża na całą szerokość jezdni.",
        "studzienka deszczowa {landmark} jest zasypana liśćmi i piaskiem.",
    ),
    "water_leak": (
        "z jezdni {landmark} wypływa czysta woda, prawdopodobnie awaria wodociągu.",
        "woda wybija spod chodnika {landmark}, robi się zapadlisko.",
    ),
    "sewer_overflow": (
        "ze studzienki kanalizacyjnej {landmark} wylewają się ścieki, straszny zapach.",
        "cofka kanalizacji {landmark}, ścieki na trawniku.",
    ),
}

#: Values for text attributes, by attribute name.
TEXT_VALUES: dict[str, tuple[str, ...]] = {
    "pole_number": ("OS-1042", "L/217", "Z-0385", "112", "OS-2210", "L/64"),
    "sign_code": ("B-36", "A-7", "D-6", "B-20", "C-12", "B-33", "A-17"),
    "licence_plate": ("EZG 4K21", "EZG 19PT", "WL 7762C", "EL 3M095", "EZG 0A55"),
    "hours": ("codziennie od 22:00 do 2:00", "w weekendy od 6:00 rano", "od 5:30, także w niedziele",
              "całą noc, najgłośniej około 1:00"),
}

FIRST_NAMES = ("Anna", "Piotr", "Katarzyna", "Tomasz", "Magdalena", "Krzysztof", "Agnieszka", "Paweł", "Joanna",
               "Michał", "Barbara", "Andrzej", "Ewa", "Marcin", "Małgorzata", "Jakub", "Zofia", "Łukasz",
               "Aleksandra", "Grzegorz", "Monika", "Wojciech", "Beata", "Stanisław")
LAST_NAMES = ("Nowak", "Kowalski", "Wiśniewski", "Wójcik", "Kowalczyk", "Kamiński", "Lewandowski", "Zieliński",
              "Szymański", "Woźniak", "Dąbrowski", "Kozłowski", "Jankowski", "Mazur", "Kwiatkowski", "Krawczyk",
              "Piotrowski", "Grabowski", "Pawłowski", "Michalski", "Król", "Wieczorek", "Jabłoński", "Majewski")

INTERNAL_NOTES = (
    "Zlecono brygadzie na jutro rano.",
    "Sprawdzić, czy to nie teren spółdzielni mieszkaniowej.",
    "Rozmowa telefoniczna ze zgłaszającym – potwierdził lokalizację.",
    "Materiał zamówiony, realizacja po dostawie.",
    "Uzgodnione z kierownikiem: priorytet podniesiony.",
    "Podobne zgłoszenie było w zeszłym miesiącu – sprawdzić trwałość naprawy.",
    "Miejsce zabezpieczone taśmą do czasu naprawy.",
    "Do ujęcia w planie remontów na przyszły rok, na razie naprawa doraźna.",
    "Oględziny w terenie wykonane, dokumentacja w aktach sprawy.",
)

PUBLIC_UPDATES = (
    "Zgłoszenie przekazaliśmy do realizacji. Prace zaplanowano na najbliższy tydzień.",
    "Ekipa była na miejscu. Naprawa wymaga dostawy materiału, potrwa kilka dni dłużej.",
    "Dziękujemy za zgłoszenie – miejsce zostało zabezpieczone.",
    "Prace rozpoczną się, gdy tylko pozwoli pogoda.",
    "Sprawa jest w toku, poinformujemy o jej zakończeniu.",
)

MESSAGES_TO_REPORTER = (
    "Dzień dobry, dziękujemy za zgłoszenie. Przekazaliśmy je do właściwej jednostki.",
    "Dzień dobry, naprawa jest zaplanowana na przyszły tydzień. Dziękujemy za cierpliwość.",
)

MESSAGES_TO_UNIT = (
    "Prosimy o pilną interwencję i informację zwrotną po wykonaniu.",
    "W załączeniu lokalizacja ze zgłoszenia mieszkańca. Prosimy o potwierdzenie terminu.",
)

QUESTIONS = (
    "Prosimy o doprecyzowanie lokalizacji – przy którym numerze budynku znajduje się problem?",
    "Czy może Pan/Pani przesłać zdjęcie tego miejsca?",
    "Prosimy o podanie numeru widocznego na słupie lub najbliższego numeru posesji.",
    "Czy problem nadal występuje? Nasz pracownik nie znalazł go na miejscu.",
)

ANSWERS = (
    "Naprzeciwko bloku nr 12, tuż przy przejściu dla pieszych.",
    "Tak, nadal występuje. Chodzi o miejsce za przystankiem, od strony parku.",
    "Przesyłam dokładniejszy opis: po lewej stronie jadąc od centrum, przy bramie nr 5.",
    "Na słupie jest numer 217.",
)

RESUME_NOTES = (
    "Zgłaszający przekazał informacje telefonicznie – wznawiamy.",
    "Brak odpowiedzi, ale lokalizację ustalono w terenie. Wznawiamy prace.",
)

REJECTIONS: dict[str, tuple[str, ...]] = {
    "zgierz": (
        "Droga wojewódzka – właściwy jest Zarząd Dróg Wojewódzkich w Łodzi, któremu przekazaliśmy zgłoszenie.",
        "Teren należy do PKP PLK S.A.; poinformowaliśmy zarządcę.",
        "Na miejscu nie stwierdzono opisanego problemu.",
        "Nieruchomość prywatna – właściciel został wezwany przez Straż Miejską do usunięcia problemu.",
        "Teren spółdzielni mieszkaniowej; zgłoszenie przekazaliśmy administracji osiedla.",
    ),
    "nieporet": (
        "Droga powiatowa – właściwy jest Zarząd Dróg Powiatowych w Legionowie, któremu przekazaliśmy zgłoszenie.",
        "Brzeg Zalewu w tym miejscu jest w zarządzie Wód Polskich; przekazaliśmy im zgłoszenie.",
        "Na miejscu nie stwierdzono opisanego problemu.",
        "Teren prywatny – właściciel został poinformowany o obowiązku uprzątnięcia.",
    ),
}

REOPEN_REASONS = (
    "Mieszkaniec zgłosił, że naprawa była nietrwała – problem pojawił się ponownie.",
    "Prace nie zostały wykonane w całości; wracamy do sprawy.",
    "Po kontroli okazało się, że usterka nadal występuje.",
)

WITHDRAW_REASONS = (
    "To nie nasz teren – działka należy do spółdzielni mieszkaniowej.",
    "Sprawa nie leży w kompetencjach naszej jednostki, prosimy o ponowne przypisanie.",
    "Błędna lokalizacja w zgłoszeniu – nie da się ustalić miejsca bez kontaktu z mieszkańcem.",
    "Zakres prac przekracza możliwości jednostki, potrzebne zlecenie zewnętrzne.",
)

REFUSED_ACCEPTANCE = (
    "Odbiór negatywny: teren nie został uprzątnięty w całości.",
    "Prace wykonane niezgodnie ze zleceniem – do decyzji dyspozytora.",
)

DELEGATE_REASONS = (
    "Naprawę wykona przedsiębiorstwo komunalne w ramach umowy na bieżące utrzymanie.",
    "Przekazuję zgodnie z właściwością – to zadanie innej jednostki.",
    "Przekazuję osobie prowadzącej ten rejon.",
    "Wymaga sprzętu, którym dysponuje inna jednostka.",
)

#: Preferred delegation targets: unit → units its tasks often go to.
DELEGATE_TO: dict[str, tuple[str, ...]] = {
    "drogi": ("pgk",),
    "gospodarka_komunalna": ("pgk", "zielen"),
    "zielen": ("pgk",),
    "srodowisko": ("gospodarka_komunalna",),
    "inwestycje": ("drogi",),
    "zuk": ("urzad",),
    "urzad": ("zuk",),
}

#: Resident accounts (people who log in to the portal) per tenant: (e-mail, name).
RESIDENTS = (
    ("m.wisniewska@example.pl", "Maria Wiśniewska"),
    ("jan.kowalczyk@example.pl", "Jan Kowalczyk"),
    ("ola.zielinska@example.pl", "Aleksandra Zielińska"),
    ("k.mazur@example.pl", "Krzysztof Mazur"),
    ("b.krol@example.pl", "Barbara Król"),
)

#: Month-dependent categories: months (1–12) in which they are reported.
SEASONS: dict[str, frozenset[int]] = {
    "snow_on_road": frozenset({11, 12, 1, 2, 3}),
    "icy_pavement": frozenset({11, 12, 1, 2, 3}),
    "icicles": frozenset({12, 1, 2, 3}),
    "neglected_greenery": frozenset({5, 6, 7, 8, 9}),
    "lakeshore_litter": frozenset({5, 6, 7, 8, 9}),
    "construction_noise": frozenset({3, 4, 5, 6, 7, 8, 9, 10}),
    "streetlight_daytime": frozenset({3, 4, 5, 6, 7, 8, 9, 10}),
}

#: How often a category is reported relative to others (default 1.0).
FREQUENCY: dict[str, float] = {
    "pothole": 4.0, "pavement_damage": 2.5, "illegal_parking": 3.0, "litter": 3.0, "streetlight_out": 3.0,
    "overflowing_bin": 2.0, "illegal_dumping": 2.0, "fallen_tree": 1.5, "snow_on_road": 2.5,
    "lakeshore_litter": 3.0, "missed_collection": 1.5, "graffiti": 1.5, "blocked_drain": 1.5,
    "night_noise": 1.5, "icicles": 0.5, "water_leak": 0.5, "sewer_overflow": 0.5, "manhole_cover": 0.7,
}
