"""Word material for the feed farm (bench/farm.py): news-like sentences in Ukrainian,
Russian and English, with slots the farm fills deterministically.

Slots: ``{city}``, ``{n}`` (a whole number), ``{pct}`` (a percentage), ``{g}`` / ``{g2}``
(a football score). Subjects are grammatically masculine singular so Ukrainian and
Russian past-tense verbs always agree. Titles and leads vary enough (many clauses, names,
numbers) that two different stories are never near-duplicates by their word pairs; only
the farm's deliberate syndicated copies are.
"""

from __future__ import annotations

from dataclasses import dataclass

TOPICS = ("putin", "zelenskyy", "negotiations", "economy", "sport")


@dataclass(frozen=True)
class Language:
    """Everything the farm writes in one language."""

    code: str
    cities: tuple[str, ...]
    first_names: tuple[str, ...]
    surnames: tuple[str, ...]
    who: tuple[str, ...]  # masculine singular subjects
    said: tuple[str, ...]  # masculine past-tense verbs of speech
    when: tuple[str, ...]
    that: str  # the conjunction after a verb of speech
    then: tuple[str, ...]  # openers of the lead's second sentence
    titles: dict[str, tuple[str, ...]]
    clauses: dict[str, tuple[str, ...]]
    sentences: tuple[str, ...]  # topic-neutral body sentences
    categories: dict[str, tuple[str, ...]]  # the topic's category labels, as feeds spell them
    quotes: tuple[str, ...]
    also_read: str
    read_more: str
    photo: str
    site_title: str


UK = Language(
    code="uk",
    cities=("Київ", "Харків", "Львів", "Одеса", "Дніпро", "Запоріжжя", "Чернігів", "Полтава",
            "Суми", "Вінниця", "Житомир", "Ужгород"),
    first_names=("Олександр", "Андрій", "Сергій", "Володимир", "Дмитро", "Євген", "Ігор",
                 "Юрій", "Василь", "Тарас", "Богдан", "Остап", "Григорій", "Максим"),
    surnames=("Коваленко", "Шевчук", "Бондаренко", "Ткаченко", "Кравчук", "Мельник",
              "Лисенко", "Гнатюк", "Їжакевич", "Литвиненко", "Ґудзь", "Савчук", "Остапчук"),
    who=("Президент", "Прем'єр-міністр", "Міністр закордонних справ", "Речник МЗС",
         "Голова комітету", "Посол", "Депутат", "Аналітик", "Військовий оглядач",
         "Очільник обласної адміністрації", "Міністр фінансів", "Економіст"),
    said=("заявив", "повідомив", "наголосив", "зазначив", "підтвердив", "пообіцяв",
          "розповів журналістам"),
    when=("у понеділок", "у вівторок", "у середу", "у четвер", "у п'ятницю", "у суботу",
          "у неділю", "сьогодні вранці", "напередодні ввечері", "під час брифінгу",
          "в ефірі телемарафону", "на пресконференції"),
    that="що",
    then=("За його словами,", "Він також додав, що", "Водночас", "Як відомо,",
          "Крім того,", "Експерти вважають, що"),
    titles={
        "putin": (
            "Путін висунув Заходу {n} нових вимог",
            "Кремль: Путін проведе нараду щодо ситуації довкола міста {city}",
            "Путін підписав указ про призов ще {n} тисяч резервістів",
            "Аналітики: Путін готується до нової ескалації біля міста {city}",
            "Путін відмовився від зустрічі з посередниками вже {n}-й раз",
            "Розвідка: Путін переніс ставку через загрозу ударів",
        ),
        "zelenskyy": (
            "Зеленський провів зустріч із військовими у місті {city}",
            "Зеленський: Україна отримає ще {n} систем протиповітряної оборони",
            "Зеленський звернувся до парламенту з ініціативою №{n}",
            "Зеленський підписав закон про підтримку громад на {n} мільйонів гривень",
            "Зеленський відвідав зруйновані квартали міста {city}",
            "Зеленський оголосив про нові санкції проти {n} компаній",
        ),
        "negotiations": (
            "Переговори в Женеві: делегації узгодили {n} пунктів",
            "Новий раунд переговорів відбудеться у Стамбулі за {n} днів",
            "Дипломати: переговори про обмін полоненими тривають уже {n} годин",
            "Переговори щодо зернового коридору зайшли в глухий кут",
            "Посередники запропонували сторонам переговорів план із {n} кроків",
            "Переговори про гарантії безпеки перенесли до міста {city}",
        ),
        "economy": (
            "Інфляція в Україні сповільнилася до {pct}%",
            "Нацбанк зберіг облікову ставку на рівні {pct}%",
            "Експорт зерна зріс на {pct}% за місяць",
            "Уряд виділив {n} мільйонів гривень на відбудову мостів у місті {city}",
            "Ціни на пальне зросли на {pct}% за тиждень",
            "Бізнес у місті {city} отримає {n} пільгових кредитів",
        ),
        "sport": (
            "Динамо перемогло Шахтар з рахунком {g}:{g2}",
            "Збірна України здобула {n} медалей на чемпіонаті Європи",
            "Усик оголосив дату наступного бою у місті {city}",
            "Українські легкоатлетки встановили рекорд на {n}-й секунді",
            "Матч у місті {city} завершився внічию {g}:{g}",
            "Тренер збірної викликав {n} новачків на збори",
        ),
    },
    clauses={
        "putin": (
            "Путін готовий продовжувати війну ще щонайменше {n} місяців",
            "Кремль перекидає до регіону нові підрозділи",
            "Путін не збирається виконувати жодних домовленостей",
            "російська армія втратила за добу понад {n} військових",
            "Путін обговорював обхід санкцій із китайськими партнерами",
            "Москва погрожує новими ударами по енергетиці",
            "Путін особисто наказав посилити обстріли міста {city}",
            "оточення Путіна дедалі більше побоюється економічної кризи",
        ),
        "zelenskyy": (
            "Зеленський відвідав передові позиції поблизу міста {city}",
            "Зеленський готує нові кадрові рішення в уряді",
            "Україна отримає від партнерів ще {n} бронемашин",
            "Зеленський провів телефонну розмову з лідерами великої сімки",
            "президент підтримав законопроєкт про реформу оборонних закупівель",
            "Зеленський закликав партнерів пришвидшити постачання зброї",
            "Зеленський погодив план відбудови для {n} громад",
            "Зеленський запросив іноземних інвесторів до міста {city}",
        ),
        "negotiations": (
            "переговори щодо припинення вогню відновляться за {n} днів",
            "делегації погодили обмін {n} полоненими",
            "наступний раунд переговорів пройде у Стамбулі",
            "сторони поки що не дійшли згоди щодо гарантій безпеки",
            "посередники запропонували новий план із {n} пунктів",
            "переговори у Женеві тривали понад {n} годин",
            "Україна не погодиться на жодні територіальні поступки",
            "місцем переговорів може стати місто {city}",
        ),
        "economy": (
            "інфляція сповільнилася до {pct}% у річному вимірі",
            "Нацбанк може знизити облікову ставку до {pct}%",
            "бюджет отримав додаткові {n} мільйонів гривень",
            "ціни на хліб зросли на {pct}% за місяць",
            "експорт металургійної продукції збільшився на {pct}%",
            "уряд виділить {n} мільйонів гривень на підтримку фермерів",
            "у місті {city} відкрили {n} нових підприємств",
            "гривня за тиждень зміцнилася на {pct}%",
        ),
        "sport": (
            "збірна України зіграє товариський матч у місті {city}",
            "клуб підписав контракт із новим тренером на {n} роки",
            "українські спортсмени здобули {n} нагород на турнірі",
            "матч перенесли через повітряну тривогу",
            "стадіон у місті {city} відкриють після ремонту",
            "Усик проведе наступний бій навесні",
            "квитки на фінал розкупили за {n} хвилин",
            "юнацька збірна посіла {n}-е місце в рейтингу",
        ),
    },
    sentences=(
        "Про це повідомили в офіційних джерелах у четвер увечері.",
        "За словами місцевої влади, ситуація у місті {city} залишається складною, "
        "але контрольованою.",
        "Експерти зазначають, що наслідки цього рішення ми побачимо лише за кілька місяців.",
        "Журналісти нашого видання поспілкувалися з мешканцями, які розповіли про свої "
        "очікування.",
        "Станом на ранок надійшло понад {n} звернень від громадян.",
        "Жителі міста {city} кажуть, що чекали на ці зміни давно.",
        "Офіційної реакції з боку опозиції поки що немає.",
        "Це вже {n}-й подібний випадок з початку року.",
        "Українська сторона наполягає на тому, що всі домовленості мають бути виконані "
        "повністю.",
        "Більше подробиць обіцяють оприлюднити найближчим часом.",
        "Водночас частина депутатів висловила сумнів щодо ефективності таких кроків.",
        "Раніше ми писали, що подібні заходи вже запроваджували у місті {city}.",
        "Їхні сусіди розповідають, що ґрунтові дороги після дощів знову стали непроїзними.",
        "Обласна рада збереться на позачергове засідання за {n} днів.",
        "Соціологи фіксують, що довіра до влади за рік змінилася на {pct}%.",
        "Волонтери зібрали для шпиталю у місті {city} понад {n} тисяч гривень.",
    ),
    categories={
        "putin": ("Путін", "Росія"),
        "zelenskyy": ("Зеленський", "Політика"),
        "negotiations": ("переговори", "Політика"),
        "economy": ("економіка",),
        "sport": ("спорт",),
    },
    quotes=(
        "«Ми не зупинимося, поки не досягнемо результату», — сказав представник відомства.",
        "«Кожен день затримки коштує людських життів», — наголосив співрозмовник видання.",
        "«Це рішення давно назріло, і ми його підтримуємо», — зазначив місцевий підприємець.",
    ),
    also_read="Читайте також",
    read_more="Читати далі",
    photo="Фото",
    site_title="Новини",
)

RU = Language(
    code="ru",
    cities=("Киев", "Харьков", "Львов", "Одесса", "Днепр", "Запорожье", "Чернигов", "Полтава",
            "Сумы", "Винница", "Житомир", "Ужгород"),
    first_names=("Александр", "Андрей", "Сергей", "Владимир", "Дмитрий", "Евгений", "Игорь",
                 "Юрий", "Василий", "Алексей", "Борис", "Николай", "Григорий", "Максим"),
    surnames=("Коваленко", "Шевчук", "Бондаренко", "Ткаченко", "Кравчук", "Мельник",
              "Лысенко", "Гнатюк", "Ёлкин", "Литвиненко", "Щербаков", "Савчук", "Быстров"),
    who=("Президент", "Премьер-министр", "Министр иностранных дел", "Представитель МИД",
         "Глава комитета", "Посол", "Депутат", "Аналитик", "Военный обозреватель",
         "Глава областной администрации", "Министр финансов", "Экономист"),
    said=("заявил", "сообщил", "подчеркнул", "отметил", "подтвердил", "пообещал",
          "рассказал журналистам"),
    when=("в понедельник", "во вторник", "в среду", "в четверг", "в пятницу", "в субботу",
          "в воскресенье", "сегодня утром", "накануне вечером", "во время брифинга",
          "в эфире телемарафона", "на пресс-конференции"),
    that="что",
    then=("По его словам,", "Он также добавил, что", "В то же время", "Как известно,",
          "Кроме того,", "Эксперты считают, что"),
    titles={
        "putin": (
            "Путин выдвинул Западу {n} новых требований",
            "Кремль: Путин проведёт совещание по ситуации вокруг города {city}",
            "Путин подписал указ о призыве ещё {n} тысяч резервистов",
            "Аналитики: Путин готовится к новой эскалации у города {city}",
            "Путин отказался от встречи с посредниками уже {n}-й раз",
            "Разведка: Путин перенёс ставку из-за угрозы ударов",
        ),
        "zelenskyy": (
            "Зеленский провёл встречу с военными в городе {city}",
            "Зеленский: Украина получит ещё {n} систем противовоздушной обороны",
            "Зеленский обратился к парламенту с инициативой №{n}",
            "Зеленский подписал закон о поддержке общин на {n} миллионов гривен",
            "Зеленский посетил разрушенные кварталы города {city}",
            "Зеленский объявил о новых санкциях против {n} компаний",
        ),
        "negotiations": (
            "Переговоры в Женеве: делегации согласовали {n} пунктов",
            "Новый раунд переговоров пройдёт в Стамбуле через {n} дней",
            "Дипломаты: переговоры об обмене пленными идут уже {n} часов",
            "Переговоры по зерновому коридору зашли в тупик",
            "Посредники предложили сторонам переговоров план из {n} шагов",
            "Переговоры о гарантиях безопасности перенесли в город {city}",
        ),
        "economy": (
            "Инфляция в Украине замедлилась до {pct}%",
            "Нацбанк сохранил учётную ставку на уровне {pct}%",
            "Экспорт зерна вырос на {pct}% за месяц",
            "Правительство выделило {n} миллионов гривен на восстановление мостов в городе "
            "{city}",
            "Цены на топливо выросли на {pct}% за неделю",
            "Бизнес в городе {city} получит {n} льготных кредитов",
        ),
        "sport": (
            "Динамо обыграло Шахтёр со счётом {g}:{g2}",
            "Сборная Украины завоевала {n} медалей на чемпионате Европы",
            "Усик объявил дату следующего боя в городе {city}",
            "Украинские легкоатлетки установили рекорд на {n}-й секунде",
            "Матч в городе {city} завершился вничью {g}:{g}",
            "Тренер сборной вызвал {n} новичков на сборы",
        ),
    },
    clauses={
        "putin": (
            "Путин готов продолжать войну ещё как минимум {n} месяцев",
            "Кремль перебрасывает в регион новые подразделения",
            "Путин не собирается выполнять никаких договорённостей",
            "российская армия потеряла за сутки более {n} военных",
            "Путин обсуждал обход санкций с китайскими партнёрами",
            "Москва угрожает новыми ударами по энергетике",
            "Путин лично приказал усилить обстрелы города {city}",
            "окружение Путина всё больше опасается экономического кризиса",
        ),
        "zelenskyy": (
            "Зеленский посетил передовые позиции возле города {city}",
            "Зеленский готовит новые кадровые решения в правительстве",
            "Украина получит от партнёров ещё {n} бронемашин",
            "Зеленский провёл телефонный разговор с лидерами большой семёрки",
            "президент поддержал законопроект о реформе оборонных закупок",
            "Зеленский призвал партнёров ускорить поставки оружия",
            "Зеленский одобрил план восстановления для {n} общин",
            "Зеленский пригласил иностранных инвесторов в город {city}",
        ),
        "negotiations": (
            "переговоры о прекращении огня возобновятся через {n} дней",
            "делегации согласовали обмен {n} пленными",
            "следующий раунд переговоров пройдёт в Стамбуле",
            "стороны пока не достигли согласия по гарантиям безопасности",
            "посредники предложили новый план из {n} пунктов",
            "переговоры в Женеве длились более {n} часов",
            "Украина не согласится ни на какие территориальные уступки",
            "местом переговоров может стать город {city}",
        ),
        "economy": (
            "инфляция замедлилась до {pct}% в годовом выражении",
            "Нацбанк может снизить учётную ставку до {pct}%",
            "бюджет получил дополнительные {n} миллионов гривен",
            "цены на хлеб выросли на {pct}% за месяц",
            "экспорт металлургической продукции увеличился на {pct}%",
            "правительство выделит {n} миллионов гривен на поддержку фермеров",
            "в городе {city} открыли {n} новых предприятий",
            "гривна за неделю укрепилась на {pct}%",
        ),
        "sport": (
            "сборная Украины сыграет товарищеский матч в городе {city}",
            "клуб подписал контракт с новым тренером на {n} года",
            "украинские спортсмены завоевали {n} наград на турнире",
            "матч перенесли из-за воздушной тревоги",
            "стадион в городе {city} откроют после ремонта",
            "Усик проведёт следующий бой весной",
            "билеты на финал раскупили за {n} минут",
            "юношеская сборная заняла {n}-е место в рейтинге",
        ),
    },
    sentences=(
        "Об этом сообщили в официальных источниках в четверг вечером.",
        "По словам местных властей, ситуация в городе {city} остаётся сложной, "
        "но контролируемой.",
        "Эксперты отмечают, что последствия этого решения мы увидим лишь через несколько "
        "месяцев.",
        "Журналисты нашего издания поговорили с жителями, которые рассказали о своих "
        "ожиданиях.",
        "По состоянию на утро поступило более {n} обращений от граждан.",
        "Жители города {city} говорят, что давно ждали этих перемен.",
        "Официальной реакции со стороны оппозиции пока нет.",
        "Это уже {n}-й подобный случай с начала года.",
        "Украинская сторона настаивает на том, что все договорённости должны быть выполнены "
        "полностью.",
        "Больше подробностей обещают обнародовать в ближайшее время.",
        "В то же время часть депутатов выразила сомнение в эффективности таких шагов.",
        "Ранее мы писали, что подобные меры уже вводились в городе {city}.",
        "Их соседи рассказывают, что грунтовые дороги после дождей снова стали непроезжими.",
        "Областной совет соберётся на внеочередное заседание через {n} дней.",
        "Социологи фиксируют, что доверие к власти за год изменилось на {pct}%.",
        "Волонтёры собрали для госпиталя в городе {city} более {n} тысяч гривен.",
    ),
    categories={
        "putin": ("Путин", "Россия"),
        "zelenskyy": ("Зеленский", "Политика"),
        "negotiations": ("переговоры", "Политика"),
        "economy": ("экономика",),
        "sport": ("спорт",),
    },
    quotes=(
        "«Мы не остановимся, пока не добьёмся результата», — сказал представитель ведомства.",
        "«Каждый день задержки стоит человеческих жизней», — подчеркнул собеседник издания.",
        "«Это решение давно назрело, и мы его поддерживаем», — отметил местный "
        "предприниматель.",
    ),
    also_read="Читайте также",
    read_more="Читать далее",
    photo="Фото",
    site_title="Новости",
)

EN = Language(
    code="en",
    cities=("Kyiv", "Kharkiv", "Lviv", "Odesa", "Dnipro", "Zaporizhzhia", "Chernihiv",
            "Poltava", "Sumy", "Vinnytsia", "Zhytomyr", "Uzhhorod"),
    first_names=("Oleksandr", "Andriy", "Serhiy", "Volodymyr", "Dmytro", "Yevhen", "Ihor",
                 "Yuriy", "Vasyl", "Taras", "Bohdan", "Ostap", "Hryhoriy", "Maksym"),
    surnames=("Kovalenko", "Shevchuk", "Bondarenko", "Tkachenko", "Kravchuk", "Melnyk",
              "Lysenko", "Hnatiuk", "Yizhakevych", "Lytvynenko", "Gudz", "Savchuk", "Ostapchuk"),
    who=("The president", "The prime minister", "The foreign minister",
         "A foreign ministry spokesman", "The committee chairman", "The ambassador",
         "A lawmaker", "An analyst", "A military commentator", "The regional governor",
         "The finance minister", "An economist"),
    said=("said", "announced", "stressed", "noted", "confirmed", "promised", "told reporters"),
    when=("on Monday", "on Tuesday", "on Wednesday", "on Thursday", "on Friday",
          "on Saturday", "on Sunday", "this morning", "late last night", "at a briefing",
          "during the national telethon", "at a press conference"),
    that="that",
    then=("According to him,", "He also added that", "At the same time,", "As is known,",
          "In addition,", "Experts believe that"),
    titles={
        "putin": (
            "Putin sets out {n} new demands to the West",
            "Kremlin: Putin to hold security meeting on the situation around {city}",
            "Putin signs decree calling up another {n} thousand reservists",
            "Analysts say Putin is preparing a new escalation near {city}",
            "Putin turns down a meeting with mediators for the {n}th time",
            "Intelligence: Putin moved his headquarters fearing strikes",
        ),
        "zelenskyy": (
            "Zelenskyy meets troops in {city}",
            "Zelenskyy: Ukraine to receive {n} more air defence systems",
            "Zelenskyy brings initiative No. {n} to parliament",
            "Zelenskyy signs law granting communities {n} million hryvnias",
            "Zelenskyy visits destroyed neighbourhoods of {city}",
            "Zelensky announces new sanctions against {n} companies",
        ),
        "negotiations": (
            "Geneva negotiations: delegations agree on {n} points",
            "New round of negotiations in Istanbul in {n} days",
            "Diplomats: prisoner exchange negotiations have lasted {n} hours",
            "Grain corridor negotiations reach a deadlock",
            "Mediators offer the negotiating parties a {n}-step plan",
            "Negotiations on security guarantees moved to {city}",
        ),
        "economy": (
            "Inflation in Ukraine slows to {pct}%",
            "National bank keeps key rate at {pct}%",
            "Grain exports up {pct}% in a month",
            "Government allocates {n} million hryvnias to rebuild bridges in {city}",
            "Fuel prices up {pct}% in a week",
            "Businesses in {city} to receive {n} cheap loans",
        ),
        "sport": (
            "Dynamo beat Shakhtar {g}-{g2}",
            "Ukraine wins {n} medals at the European championships",
            "Usyk announces date of next fight in {city}",
            "Ukrainian sprinters set a record in the {n}th second",
            "Match in {city} ends in a {g}-{g} draw",
            "National coach calls up {n} newcomers",
        ),
    },
    clauses={
        "putin": (
            "Putin is ready to continue the war for at least {n} more months",
            "the Kremlin is moving new units into the region",
            "Putin has no intention of honouring any agreement",
            "the Russian army lost more than {n} soldiers in a day",
            "Putin discussed ways around sanctions with Chinese partners",
            "Moscow is threatening new strikes on energy infrastructure",
            "Putin personally ordered heavier shelling of {city}",
            "Putin's inner circle is increasingly worried about an economic crisis",
        ),
        "zelenskyy": (
            "Zelenskyy visited front-line positions near {city}",
            "Zelenskyy is preparing new personnel decisions in the government",
            "Ukraine will receive {n} more armoured vehicles from its partners",
            "Zelenskyy held a phone call with leaders of the Group of Seven",
            "the president backed a bill reforming defence procurement",
            "Zelenskyy urged partners to speed up weapons deliveries",
            "Zelenskyy approved a reconstruction plan for {n} communities",
            "Zelenskyy invited foreign investors to {city}",
        ),
        "negotiations": (
            "ceasefire negotiations will resume in {n} days",
            "the delegations agreed to exchange {n} prisoners",
            "the next round of negotiations will take place in Istanbul",
            "the parties have not yet agreed on security guarantees",
            "mediators proposed a new {n}-point plan",
            "the negotiations in Geneva lasted more than {n} hours",
            "Ukraine will not accept any territorial concessions",
            "{city} could host the negotiations",
        ),
        "economy": (
            "inflation slowed to {pct}% year on year",
            "the national bank may cut its key rate to {pct}%",
            "the budget received an extra {n} million hryvnias",
            "bread prices rose by {pct}% in a month",
            "steel exports increased by {pct}%",
            "the government will allocate {n} million hryvnias to support farmers",
            "{n} new businesses opened in {city}",
            "the hryvnia gained {pct}% over the week",
        ),
        "sport": (
            "Ukraine's national team will play a friendly in {city}",
            "the club signed a {n}-year contract with a new coach",
            "Ukrainian athletes won {n} medals at the tournament",
            "the match was postponed because of an air raid alert",
            "the stadium in {city} will reopen after renovation",
            "Usyk will fight again in the spring",
            "tickets for the final sold out in {n} minutes",
            "the youth team came {n}th in the ranking",
        ),
    },
    sentences=(
        "Officials confirmed the news late on Thursday evening.",
        "According to local authorities, the situation in {city} remains difficult but "
        "under control.",
        "Experts say the consequences of the decision will only become clear in a few months.",
        "Our reporters spoke to residents who described what they expect to happen next.",
        "By the morning, more than {n} people had contacted the authorities.",
        "People in {city} say they have been waiting for these changes for a long time.",
        "There has been no official reaction from the opposition so far.",
        "This is the {n}th such case since the start of the year.",
        "The Ukrainian side insists that every agreement must be implemented in full.",
        "More details are expected to be published soon.",
        "At the same time, several lawmakers questioned whether such steps would work.",
        "We reported earlier that similar measures had already been introduced in {city}.",
        "Their neighbours say the dirt roads became impassable again after the rains.",
        "The regional council will hold an extraordinary session in {n} days.",
        "Pollsters say trust in the authorities has changed by {pct}% in a year.",
        "Volunteers raised more than {n} thousand hryvnias for the hospital in {city}.",
    ),
    categories={
        "putin": ("Putin", "Russia"),
        "zelenskyy": ("Zelenskyy", "Politics"),
        "negotiations": ("negotiations", "Politics"),
        "economy": ("economy",),
        "sport": ("sport",),
    },
    quotes=(
        "“We will not stop until we get results,” a spokesperson for the ministry said.",
        "“Every day of delay costs human lives,” the official told us.",
        "“This decision was long overdue, and we support it,” a local entrepreneur said.",
    ),
    also_read="Also read",
    read_more="Read more",
    photo="Photo",
    site_title="News",
)

LANGUAGES = (UK, RU, EN)

# The config's tag table: each canonical tag with the spellings the farm's feeds use.
TAGS = {
    "putin": ["Putin", "Путін", "Путин"],
    "zelenskyy": ["Zelenskyy", "Zelensky", "Зеленський", "Зеленский"],
    "negotiations": {
        "aliases": ["negotiations", "переговори", "переговоры"],
        "match": ["(?i)\\bnegotiat", "(?i)переговор"],
    },
}
