"""A turn-taking corpus generated from templates, split once into a dev half and a test half.

Why: a turn-taking strategy tuned on a handful of hand-picked answers meets its targets on those
answers and nowhere else (issue 28). This corpus is ~200 answers generated from sentence templates
whose slots are filled from small vocabularies by a seeded ``random.Random``, in nine categories of
the shapes that cut people off (lead-ins, clauses that need a complement, self-posed questions,
long pauses before the point, lists, numbers and spelled names, very short answers, long answers with
several pauses, questions back), for a technical and a research interview, in two delivery styles.

The split unit is the template: each template is in exactly one half, alternating within each
category (and within each interview kind), so a sentence shape in the test half is never heard
while tuning. Tune on ``split(corpus, "dev")``; report on ``split(corpus, "test")``, and say so when
a rule changed because of a test-half failure. The seed changes the fillers and pause lengths,
never the templates or the split.

    from scripts.turn_corpus import build_corpus, split, as_candidate_script
    dev = split(build_corpus(), "dev")
    yaml.safe_dump(as_candidate_script(dev), open("dev.yaml", "w"))   # scripts/candidate_script.py format
    for answer in dev: answer.question, answer.segments, answer.style, answer.prefixes()

    .venv/bin/python scripts/turn_corpus.py            # the counts per category, half and style
"""

from __future__ import annotations

import random
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import EllipsisType
from typing import Literal, get_args

Category = Literal[
    "lead_in",
    "needs_complement",
    "sentence_then_point",
    "self_question",
    "list_pauses",
    "numbers_names",
    "short_complete",
    "long_multi_pause",
    "question_back",
]
InterviewKind = Literal["technical", "research"]
Style = Literal["measured", "brisk"]  # the two delivery styles (scripts/candidate_voice.py)
Half = Literal["dev", "test"]

CATEGORIES: tuple[Category, ...] = get_args(Category)
STYLES: tuple[Style, ...] = get_args(Style)
HALVES: tuple[Half, ...] = get_args(Half)
INSTANCES_PER_TEMPLATE = 3
MAX_PAUSE: dict[InterviewKind, float] = {"technical": 4.0, "research": 8.0}

# Pause lengths inside an answer, in seconds, per category and interview kind (drawn uniformly, 0.1 s steps).
PAUSE_RANGES: dict[Category, dict[InterviewKind, tuple[float, float]]] = {
    "lead_in": {"technical": (1.5, 3.0), "research": (1.5, 3.0)},
    "needs_complement": {"technical": (1.2, 3.0), "research": (3.0, 6.0)},
    "sentence_then_point": {"technical": (3.0, 4.0), "research": (3.0, 8.0)},
    "self_question": {"technical": (2.0, 4.0), "research": (2.0, 5.0)},
    "list_pauses": {"technical": (1.0, 2.5), "research": (1.0, 2.5)},
    "numbers_names": {"technical": (0.9, 2.0), "research": (0.9, 2.0)},
    "short_complete": {},  # no pauses
    "long_multi_pause": {"technical": (0.9, 2.5), "research": (0.9, 6.0)},
    "question_back": {"technical": (1.0, 2.5), "research": (1.5, 5.0)},
}

PAUSE = ...  # in a template: a pause drawn from the category's range for the interview kind
Part = str | EllipsisType


@dataclass(frozen=True)
class CorpusAnswer:
    """One answer of the corpus, with the question it answers and where it belongs."""

    id: str  # "<template>-<instance>", e.g. "lead_in-t03-2"
    category: Category
    interview: InterviewKind
    template: str  # the template's id ("lead_in-t03"): the split unit
    question: str  # the interviewer's question this answers
    segments: tuple[str | float, ...]  # said text, or a pause in seconds inside the answer
    style: Style
    half: Half
    handover: bool  # the answer ends by handing the turn over (a question back, "that's it")

    @property
    def text(self) -> str:
        """Everything said, without the pauses."""
        return " ".join(s for s in self.segments if isinstance(s, str))

    @property
    def pauses(self) -> tuple[float, ...]:
        return tuple(s for s in self.segments if not isinstance(s, str))

    def prefixes(self) -> list[tuple[str, bool]]:
        """(text said up to each pause, False) for every pause, then (the full text, True)."""
        said: list[str] = []
        out: list[tuple[str, bool]] = []
        for seg in self.segments:
            if isinstance(seg, str):
                said.append(seg)
            else:
                out.append((" ".join(said), False))
        return [*out, (self.text, True)]


@dataclass(frozen=True)
class _Template:
    interview: InterviewKind
    question: str
    parts: tuple[Part, ...]
    handover: bool = False
    slots: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # this template's own vocabularies


def _t(
    interview: InterviewKind, question: str, *parts: Part, handover: bool = False, **slots: tuple[str, ...]
) -> _Template:
    return _Template(interview, question, parts, handover, slots)


# Shared vocabularies; "{name}" in a template draws from VOCAB[name] (or the template's own slots),
# "{name1}", "{name2}" draw different values from the same list. Lower case: sentence starts are capitalised.
VOCAB: dict[str, tuple[str, ...]] = {
    # technical
    "system": ("the payments service", "the checkout API", "the billing pipeline", "the search indexer",
               "the notification service", "the order service", "the fraud checks"),
    "db": ("Postgres", "MySQL", "DynamoDB", "Cassandra", "MongoDB"),
    "queue": ("Kafka", "RabbitMQ", "SQS", "a Redis stream"),
    "cache": ("Redis", "Memcached", "a local in-memory cache"),
    "tool": ("Kafka", "Redis", "Postgres", "RabbitMQ", "Terraform", "Kubernetes", "gRPC"),
    "incident": ("a double charge", "a cache stampede", "a checkout outage", "a replication lag spike",
                 "a queue backlog that grew for hours", "a bad deploy that dropped webhooks"),
    "cause": ("a retry storm from the mobile clients", "a missing index on the orders table",
              "a certificate that expired overnight", "a config change nobody reviewed",
              "a slow query holding locks", "the connection pool running dry"),
    "worry": ("the retry logic", "how we deduplicate events", "the schema migration", "the missing alerts on the queue",
              "cold caches after a deploy", "the database that three teams share"),
    "fix": ("we added idempotency keys to every request", "we put a circuit breaker in front of the provider",
            "we moved the writes behind a queue", "we added a dead letter queue for the bad messages",
            "we split the hot table by customer", "we cached the read path with a short expiry"),
    "problem": ("latency", "duplicate events", "a flaky deploy pipeline", "nobody owning the alerts",
                "slow migrations", "noisy pages at night", "runaway cloud costs"),
    "step": ("measure where the time goes", "add an index for the slow query", "move the slow work to a queue",
             "put a cache in front of the database", "load test it before the launch", "set an alert on the error budget"),
    # research
    "app": ("the banking app", "the meal planning app", "the step counter app", "the budgeting app",
            "the language app", "the supermarket app", "the meditation app"),
    "change": ("the move to hybrid work", "the new open plan office", "the switch to a four day week",
               "the new expense system", "the new shift rota", "the new team chat tool"),
    "feeling": ("a bit anxious", "quietly proud", "tired, to be honest", "more in control", "a little guilty",
                "calmer than before", "a bit left out"),
    "routine": ("your morning walk", "cooking on Sundays", "your evening run", "the school run", "reading before bed",
                "the Saturday market"),  # only in questions
    "feature": ("the weekly summary", "the shared list", "the reminder in the evening", "the little chart of my week",
                "the streak counter"),
    "use": ("planning the week", "reminders", "keeping track of what I spend", "sharing a list with my partner",
            "something to do on the bus"),
    "closing": ("no, that's everything.", "that's it.", "no, I think that's it.", "nothing more, that's everything."),
}  # fmt: skip

TEMPLATES: dict[Category, tuple[_Template, ...]] = {
    "lead_in": (
        _t("technical", "How would you make {system} safe to retry?", "{lead}", PAUSE,
           "I'd give every request an idempotency key and store it in {db} in the same transaction as the write."),
        _t("technical", "What was the hardest incident you handled on call?", "{lead}", PAUSE,
           "it was {incident} in {system}, caused by {cause}."),
        _t("technical", "How would you cache the read path of {system}?", "{lead}", PAUSE,
           "I'd put {cache} in front of it with a short expiry, and invalidate the key on every write."),
        _t("technical", "Why did you pick {queue} for the event stream?", "{lead}", PAUSE,
           "mostly because the team already knew it, and it kept the order of events per customer."),
        _t("research", "How do you feel about {app} these days?", "{lead}", PAUSE,
           "I still use it, but I open it less than I did, maybe {often}.", often=("twice a week", "once a day", "on Sundays")),
        _t("research", "What changed for you with {change}?", "{lead}", PAUSE,
           "I see my colleagues less, and I miss the small talk more than I expected."),
        _t("research", "How has your food shopping changed over the last year?", "{lead}", PAUSE,
           "I plan it more now, because {why}.",
           why=("prices went up", "I got tired of throwing food away", "we have a baby now", "I cook for one these days")),
    ),
    "needs_complement": (
        _t("technical", "What worries you most about {system}?", "the part that worries me most is", PAUSE,
           "{worry}, because nobody has tested it under real load."),
        _t("technical", "Why did the migration to {db} take so long?", "I think the main reason was", PAUSE,
           "{cause}, and we only found it in the last week."),
        _t("technical", "What would you change first in {system}?", "the first thing I would change is", PAUSE,
           "{worry}, since it pages someone almost every night."),
        _t("technical", "What did the incident review conclude?", "what we found in the end was", PAUSE,
           "{cause}, so {fix}."),
        _t("research", "How does {app} make you feel?", "every time I open it, it makes me feel", PAUSE, "{comp}.",
           comp=("like I'm a step behind", "a bit guilty when I skip a day", "more organised than I really am",
                 "like someone is keeping score", "calmer about money than I used to be")),
        _t("research", "How did you get on with the shared shopping list?", "at first it was fine, but the list kept",
           PAUSE, "{kept}, and in the end nobody looked at it.",
           kept=("growing every week", "getting longer, never shorter", "changing every time I opened it",
                 "filling up with things we never bought")),
        _t("research", "What did you find hardest about {change}?", "the thing I found hardest was", PAUSE, "{hardest}.",
           hardest=("not knowing who would be in on a given day", "losing the quiet time in the morning",
                    "having to book a desk a week ahead", "feeling like I had to prove I was working")),
        _t("research", "What made you keep going with {routine}?", "I suppose what keeps me going is", PAUSE, "{keep}.",
           keep=("the feeling afterwards, more than anything", "that it's the only time nobody needs me",
                 "that my sister does it too, so we compare notes", "that I sleep better on those days")),
    ),
    "sentence_then_point": (
        _t("technical", "How did you find the cause of {incident}?", "we looked at the dashboards first.", PAUSE,
           "but the real clue was in the slow query log, it pointed straight at {cause}."),
        _t("technical", "Would you use {db} again for a ledger?", "it did the job for us.", PAUSE,
           "but I'd think hard about it, because the way we used it made every schema change painful."),
        _t("research", "What do you think of {app}?", "it's a good app, I use it most days.", PAUSE,
           "what I don't like is that {dislike}.",
           dislike=("it keeps asking me to upgrade", "it sends far too many notifications",
                    "it hides the simple things behind menus", "it assumes every week looks the same")),
        _t("research", "How did {change} go for your team?", "it went fine on paper.", PAUSE, "but in practice {practice}.",
           practice=("half of us came in on the same two days and the office was empty the rest of the week",
                     "the quieter people stopped speaking up in meetings", "nobody knew when it was okay to log off",
                     "we spent more time arranging things than doing them")),
        _t("research", "Where do you usually do your shopping?", "mostly at {shop}.", PAUSE, "the reason is {reason}.",
           shop=("the discount supermarket near us", "a big supermarket once a week", "the corner shop",
                 "the market in town"),
           reason=("I can walk there and I don't have to plan", "it's cheaper, and I've stopped caring about brands",
                   "my kids come with me and it's quick")),
        _t("research", "How do you feel at the end of a working day now?", "usually tired, which is normal I think.",
           PAUSE, "but lately it's more that I feel {feeling}, and I'm not sure why."),
        _t("research", "Can you tell me about {routine}?", "I've done it for about {years} years now.", PAUSE,
           "and the thing is, it only started because {started}.", years=("two", "three", "five"),
           started=("my doctor told me to move more", "I couldn't sleep after a hard year", "a friend needed company")),
    ),
    "self_question": (
        _t("technical", "What did you learn from running {system}?", "what did I learn?", PAUSE, "mostly that {lesson}.",
           lesson=("every retry needs a limit", "the boring parts fail first", "alerts without runbooks are noise",
                   "you measure before you cache")),
        _t("technical", "Why did you choose {queue} over a database table?", "why not just a table?", PAUSE,
           "because we needed consumers to replay events, and a table would have turned into a queue anyway."),
        _t("technical", "How would you scale {system} ten times?", "where does it break first?", PAUSE,
           "probably at the database, so I'd start with {scale}.",
           scale=("read replicas for the reports", "splitting the hot table by customer",
                  "moving the writes behind a queue", "caching the product pages")),
        _t("technical", "What was the biggest mistake on that project?", "what would I do differently?", PAUSE,
           "I would have {instead}.",
           instead=("written the runbook before the launch, not after", "load tested with real traffic shapes",
                    "brought the on-call team in from the start", "kept the first version much smaller")),
        _t("research", "What do you like most about {app}?", "what did I like most?", PAUSE,
           "I think {feature}, because it's simple and it doesn't nag."),
        _t("research", "How did {change} affect you?", "how did it affect me?", PAUSE,
           "more than I admitted at the time, I was {feeling} for months."),
        _t("research", "Why does {routine} matter to you?", "why does it matter?", PAUSE,
           "because it's the one part of the day I {choose}.",
           choose=("choose myself", "don't share with anyone", "never skip", "look forward to")),
    ),
    "list_pauses": (
        _t("technical", "What problems did you have with {system}?", "we had three problems: {problem1},", PAUSE,
           "{problem2},", PAUSE, "and {problem3}."),
        _t("technical", "How would you approach a slow endpoint?", "first, I'd {step1}.", PAUSE,
           "second, I'd {step2}.", PAUSE, "and third, I'd {step3}."),
        _t("technical", "What does a good on-call rota need?", "a few things. a runbook for every alert,", PAUSE,
           "{need1},", PAUSE, "and {need2}.",
           need=("a clear handover at the end of the week", "a way to silence noisy alerts",
                 "time off after a bad night", "a second person to escalate to")),
        _t("technical", "Which tools did your team use?", "{db} for the ledger,", PAUSE, "{queue} for the events,",
           PAUSE, "and {cache} for the hot reads."),
        _t("research", "What do you use {app} for?", "mostly three things. {use1},", PAUSE, "{use2},", PAUSE,
           "and {use3}."),
        _t("research", "What's a typical morning like for you?", "I get up around {hour},", PAUSE,
           "I make coffee and check my phone,", PAUSE, "and then {then}.", hour=("six", "seven", "half past seven"),
           then=("I walk the dog before work", "it's the school run", "I start work at the kitchen table")),
        _t("research", "What did you miss about the old way of working?", "the people, first of all.", PAUSE,
           "then the routine of going somewhere,", PAUSE, "and, I suppose, {missed}.",
           missed=("the lunches", "the walk home", "having a proper desk", "the chats by the kettle")),
    ),
    "numbers_names": (
        _t("technical", "How fast is the read path of {system}?", "it's {latency},", PAUSE, "at {load}.",
           latency=("about 40 milliseconds at p99", "under 200 milliseconds at p95",
                    "roughly 12 milliseconds in the median"),
           load=("around 5000 requests a second", "about 2 million events a day", "close to 800 writes a second")),
        _t("technical", "Which versions were you running?", "we were on {version1} and {version2}, and we upgraded last {season}.",
           version=("Postgres 15", "Python 3.11", "Kafka 3.6", "Redis 7", "Java 17", "Kubernetes 1.28"),
           season=("spring", "summer", "winter")),
        _t("technical", "Who did you work with on that?", "mostly with {colleague},", PAUSE, "who ran the {db} side.",
           colleague=("my manager, Anne-Marie", "our tech lead, Siobhan, spelled S-I-O-B-H-A-N",
                      "a colleague called Niamh, that's N-I-A-M-H", "the database lead, Chiara")),
        _t("technical", "Which message broker did you use?", "{broker}, with {parts} partitions and {keep} of retention.",
           broker=("Kafka, spelled K-A-F-K-A", "Pulsar, that's P-U-L-S-A-R", "NATS, N-A-T-S"),
           parts=("12", "64", "128"), keep=("7 days", "72 hours", "30 days")),
        _t("technical", "How much did the cache help?", "the hit rate was {percent},", PAUSE,
           "and it cut the load on {db} by about half.",
           percent=("about 30 percent", "almost 60 percent", "around 85 percent", "nearly 90 percent")),
        _t("research", "How much do you spend on {app} each month?", "about {money} a month,", PAUSE, "and {note}.",
           money=("12 pounds", "8 euros", "20 dollars", "4 pounds 99"),
           note=("I split it with my sister", "I keep meaning to cancel it", "it's worth it for the reminders")),
        _t("research", "Who introduced you to {app}?", "my friend {friend}, from work.",
           friend=("Aoife, that's A-O-I-F-E", "Anne-Marie", "Joaquin, J-O-A-Q-U-I-N", "Siobhan")),
        _t("research", "How often do you go food shopping?", "about {times} a week,", PAUSE,
           "and I spend around {spend} each time.",
           times=("twice", "3 times", "4 times"), spend=("40 pounds", "60 euros", "25 dollars")),
    ),
    "short_complete": (
        _t("technical", "Have you used {tool} in production?", "{yes}",
           yes=("yes.", "yes, I have.", "yeah, for about two years.", "yes, every day.")),
        _t("technical", "Have you ever been on call for {system}?", "{no}",
           no=("no.", "not really.", "no, never.", "not in that job.")),
        _t("technical", "Is there anything else you'd like to add?", "{closing}", handover=True),
        _t("technical", "Anything else about {system} before we move on?", "{closing}", handover=True),
        _t("research", "Do you still use {app}?", "{yes}", yes=("yes.", "yes, most days.", "yeah, I do.", "yes, still.")),
        _t("research", "Was {change} a big deal for you?", "{no}",
           no=("not really.", "no.", "no, not much.", "honestly, no.")),
        _t("research", "Is there anything else you'd like to add?", "{closing}", handover=True),
        _t("research", "Is there anything else about {app} you want to mention?", "{closing}", handover=True),
    ),
    "long_multi_pause": (
        _t("technical", "Can you walk me through how a payment moves through {system}?",
           "so the request comes in at the gateway, and", PAUSE,
           "the first thing we do is check the idempotency key in {db}.", PAUSE,
           "if it's new, we write the payment and an outbox row in one transaction,", PAUSE, "um,", PAUSE,
           "and a worker publishes the outbox to {queue}, so the ledger and the events never disagree."),
        _t("technical", "How did you handle {incident}?", "we got paged at about {time} in the morning.", PAUSE,
           "the dashboards showed errors, but", PAUSE, "it took us a while to see it was {cause}.", PAUSE,
           "once we knew, {fix}, and we wrote it up the next day.", time=("two", "three", "five")),
        _t("technical", "How would you design caching for {system}?", "I'd start with the reads, because", PAUSE,
           "they're most of the traffic.", PAUSE, "I'd put {cache} in front with a short expiry, and", PAUSE,
           "hmm,", PAUSE,
           "for the writes I'd delete the key rather than update it, so we never serve a stale value for long."),
        _t("technical", "What did you change in the on-call process?", "when I joined, the pager was very noisy.",
           PAUSE, "we went through every alert and", PAUSE, "deleted about half of them.", PAUSE,
           "the rest got a runbook, and now {result}.",
           result=("most weeks nobody is woken up", "a new person can take the pager after a month",
                   "a page means something again")),
        _t("research", "Can you tell me how you started using {app}?", "it was a couple of years ago, when", PAUSE,
           "I was trying to get on top of things.", PAUSE, "a friend showed me {feature}, and", PAUSE,
           "I don't know,", PAUSE, "it just stuck, I use it most days now."),
        _t("research", "How has {change} affected your week?", "at first I liked it.", PAUSE,
           "I had more time in the mornings and", PAUSE, "I saw more of my family.", PAUSE,
           "but after a few months I started to feel {low}, and I think that's because I miss the people.",
           low=("a bit cut off", "a little lonely", "restless", "a bit left out")),
        _t("research", "How do you decide what to buy each week?", "it depends on the week, really.", PAUSE,
           "I look at what's left in the fridge, and", PAUSE, "then, um,", PAUSE,
           "I check {check}, and I only buy what's on the list.",
           check=("the offers in the supermarket app", "what my kids will actually eat",
                  "how much is left in the budget")),
    ),
    "question_back": (
        _t("technical", "How would you store the ledger?",
           "I'd keep it in {db}, with one row per entry and no updates, only inserts.", PAUSE,
           "does that answer your question?", handover=True),
        _t("technical", "How did you structure {system}?",
           "it was three services talking through {queue}, with {db} behind the main one.",
           "should I go deeper on the database part?", handover=True),
        _t("technical", "How would you speed up the slow path?", "{clarify}", handover=True,
           clarify=("do you mean the read path or the write path?", "sorry, do you mean the reads or the writes?",
                    "just to check, is this the public API or the internal one?")),
        _t("technical", "What happened during {incident}?",
           "{cause} took down the writes for about twenty minutes, and we rolled back.", PAUSE,
           "do you want the timeline, or just the fix?", handover=True),
        _t("research", "How do you use {app} day to day?", "mostly for {use}, in the evenings.", PAUSE,
           "is that the kind of thing you mean?", handover=True),
        _t("research", "How did you feel when {change} was announced?", "I was {feeling}, if I'm honest.",
           "do you want me to say more about why?", handover=True),
        _t("research", "What's your shopping routine?", "{clarify}", handover=True,
           clarify=("do you mean food, or everything?", "sorry, do you mean during the week or at weekends?",
                    "for me, or for the whole family?")),
    ),
}  # fmt: skip

_SLOT = re.compile(r"\{([a-z]+)(\d?)\}")
_SENTENCE_START = re.compile(r"([.?!]\s+)([a-z])")
LEAD_INS = ("honestly.", "so,", "well, hmm.", "right.", "good question.", "okay, so.", "hmm.")


def build_corpus(seed: int = 28) -> list[CorpusAnswer]:
    """Every template's instances; the same seed gives the same corpus, another seed other fillers."""
    corpus: list[CorpusAnswer] = []
    styled: Counter[tuple[Category, Half]] = Counter()  # styles alternate within each category's half
    for c, category in enumerate(CATEGORIES):
        for t, (template, half) in enumerate(zip(TEMPLATES[category], _halves(category, c))):
            template_id = f"{category}-t{t + 1:02d}"
            rng = random.Random(f"{seed}:{template_id}")  # one template's edit leaves the others' fillers alone
            seen: set[tuple[str, tuple[str | float, ...]]] = set()
            for i in range(INSTANCES_PER_TEMPLATE):
                question, segments = _instance(template, category, rng, seen)
                style = STYLES[styled[category, half] % 2]
                styled[category, half] += 1
                corpus.append(
                    CorpusAnswer(
                        id=f"{template_id}-{i + 1}",
                        category=category,
                        interview=template.interview,
                        template=template_id,
                        question=question,
                        segments=segments,
                        style=style,
                        half=half,
                        handover=template.handover,
                    )
                )
    return corpus


def split(corpus: Iterable[CorpusAnswer], half: Half) -> list[CorpusAnswer]:
    """The answers of one half, in corpus order."""
    return [a for a in corpus if a.half == half]


def as_candidate_script(answers: Iterable[CorpusAnswer], think_pause: float = 0.8) -> dict:
    """The answers as a scripts/candidate_script.py script (one answer per interviewer question)."""
    answers = list(answers)
    return {
        "name": f"turn corpus, {len(answers)} answers",
        "answers": [
            {
                "think_pause": think_pause,
                "segments": [{"say": s} if isinstance(s, str) else {"pause": float(s)} for s in a.segments],
            }
            for a in answers
        ],
    }


def _halves(category: Category, index: int) -> list[Half]:
    """Alternate dev/test over the category's templates, which are listed grouped by interview kind,
    so each kind with two or more templates lands in both halves; the start flips per category."""
    return [HALVES[(index + t) % 2] for t in range(len(TEMPLATES[category]))]


def _instance(
    template: _Template, category: Category, rng: random.Random, seen: set[tuple[str, tuple[str | float, ...]]]
) -> tuple[str, tuple[str | float, ...]]:
    """Fill the template's slots and pauses; a new combination each time it is called for the template."""
    pause_range = PAUSE_RANGES[category].get(template.interview)
    for _ in range(200):
        values = _fill(template, rng)
        question = _sentence_case([_substitute(template.question, values)])[0]
        said = [_substitute(p, values) if isinstance(p, str) else p for p in template.parts]
        texts = iter(_sentence_case([p for p in said if isinstance(p, str)]))
        segments: tuple[str | float, ...] = tuple(
            next(texts) if isinstance(p, str) else _pause(rng, pause_range) for p in said
        )
        key = (question, tuple(s for s in segments if isinstance(s, str)))
        if key not in seen:
            seen.add(key)
            return question, segments
    raise ValueError(f"{category}: a template has too few fillers for {INSTANCES_PER_TEMPLATE} instances")


def _fill(template: _Template, rng: random.Random) -> dict[str, str]:
    """One value per slot; "{x1}" and "{x2}" get different values from the same vocabulary."""
    slots: dict[str, list[str]] = {}
    for text in (template.question, *(p for p in template.parts if isinstance(p, str))):
        for m in _SLOT.finditer(text):
            keys = slots.setdefault(m.group(1), [])
            if m.group(0) not in keys:
                keys.append(m.group(0))
    vocab = {**VOCAB, "lead": LEAD_INS, **template.slots}
    values: dict[str, str] = {}
    for name, keys in slots.items():
        values.update(zip(keys, rng.sample(vocab[name], len(keys))))
    return values


def _substitute(text: str, values: Mapping[str, str]) -> str:
    return _SLOT.sub(lambda m: values[m.group(0)], text)


def _pause(rng: random.Random, pause_range: tuple[float, float] | None) -> float:
    if pause_range is None:
        raise ValueError("a template has a pause in a category without pauses")
    return round(rng.uniform(*pause_range), 1)


def _sentence_case(texts: list[str]) -> list[str]:
    """Capitalise the start of each sentence, across segments (a segment after "so," goes on in lower case)."""
    out: list[str] = []
    starts = True
    for text in texts:
        text = _SENTENCE_START.sub(lambda m: m.group(1) + m.group(2).upper(), text)
        if starts:
            text = text[:1].upper() + text[1:]
        out.append(text)
        starts = text.rstrip()[-1:] in ".?!"
    return out


def counts_table(corpus: list[CorpusAnswer]) -> str:
    """Answers per category, half and style, as a plain text table."""
    cells = Counter((a.category, a.half, a.style) for a in corpus)
    kinds = Counter((a.category, a.half, a.interview) for a in corpus)
    columns = [f"{h} {s}" for h in HALVES for s in STYLES]
    lines = [f"{'category':<20} " + " ".join(f"{c:>12}" for c in columns) + "   technical/research (dev | test)"]
    for cat in (*CATEGORIES, None):
        row = [sum(n for (c, h, s), n in cells.items() if (cat is None or c == cat) and (h, s) == hs)
               for hs in ((h, s) for h in HALVES for s in STYLES)]  # fmt: skip
        mix = " | ".join(
            "/".join(str(sum(n for (c, h, k), n in kinds.items() if (cat is None or c == cat) and (h, k) == (half, kind)))
                     for kind in get_args(InterviewKind))
            for half in HALVES
        )  # fmt: skip
        lines.append(f"{cat or 'total':<20} " + " ".join(f"{n:>12}" for n in row) + f"   {mix}")
    return "\n".join(lines)


if __name__ == "__main__":
    print(counts_table(build_corpus()))
