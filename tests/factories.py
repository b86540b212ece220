"""factory-boy factories for the desk's models. Build rows directly; services are tested
through their own calls, not through factories."""

from __future__ import annotations

import functools

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.utils import timezone

from feedback.models import FeedbackEvent
from knowledge.models import Article, FAQSuggestion
from knowledge.services import article_create
from replies.models import Draft
from supportdesk.models import Category, Customer, Message, Ticket
from supportdesk.roles import ensure_roles
from triage.models import Escalation, RoutingDecision, TriageResult
from triage.services import routing_rule_day_add

# Every factory user can sign in with this password (browser tests need one).
DEFAULT_PASSWORD = "correct horse battery"


@functools.cache
def _password_hash() -> str:
    # Hashing is slow on purpose; hash once per run, not once per user.
    return make_password(DEFAULT_PASSWORD)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ["username"]
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.LazyFunction(_password_hash)

    @factory.post_generation
    def role(self, create: bool, extracted: str | None, **kwargs: object) -> None:
        """`UserFactory(role="agent")` puts the user in that role's group."""
        if not create or not extracted:
            return
        if not Group.objects.filter(name=extracted).exists():
            ensure_roles()
        self.groups.add(Group.objects.get(name=extracted))


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer
        django_get_or_create = ["email"]

    email = factory.Sequence(lambda n: f"customer{n}@example.com")
    name = factory.Faker("name")
    locale = "en"


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Category
        django_get_or_create = ["slug"]

    slug = factory.Sequence(lambda n: f"category-{n}")
    name = factory.LazyAttribute(lambda c: c.slug.replace("-", " ").replace("_", " ").title())
    routine = False


class TicketFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Ticket

    customer = factory.SubFactory(CustomerFactory)
    subject = factory.Sequence(lambda n: f"Question number {n}")
    status = Ticket.Status.OPEN
    channel = Ticket.Channel.WEB
    urgency = Ticket.Urgency.MEDIUM
    created_at = factory.LazyFunction(timezone.now)


class MessageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Message

    ticket = factory.SubFactory(TicketFactory)
    direction = Message.Direction.INBOUND
    body_text = "How do I change my delivery address?"
    created_at = factory.LazyFunction(timezone.now)


class TriageResultFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TriageResult

    message = factory.SubFactory(MessageFactory)
    ticket = factory.SelfAttribute("message.ticket")
    language = "en"
    language_confidence = 0.99
    category = "delivery"
    category_confidence = 0.9
    emotion = "neutral"
    emotion_confidence = 0.8
    urgency = "medium"
    engine = "test"
    engine_version = "1"
    latency_ms = 3


class RoutingDecisionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RoutingDecision

    triage = factory.SubFactory(TriageResultFactory)
    ticket = factory.SelfAttribute("triage.ticket")
    action = RoutingDecision.Action.HUMAN
    reasons = factory.LazyFunction(lambda: ["'delivery' is not a routine category"])

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        """Counted on its rule's day, as route_ticket counts the decisions it stores."""
        decision = super()._create(model_class, *args, **kwargs)
        routing_rule_day_add(rule_id=decision.rule_id, decided_at=decision.created_at, decisions=1)
        return decision


def routing_override_event(*, kind: str, decision: RoutingDecision, **fields) -> FeedbackEvent:
    """A person overruling a routing decision, stored and counted as the triage services do."""
    event = FeedbackEvent.objects.create(
        kind=kind, ticket_id=decision.ticket_id, routing=decision, **fields
    )
    routing_rule_day_add(rule_id=decision.rule_id, decided_at=decision.created_at, **{kind: 1})
    return event


class DraftFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Draft

    in_reply_to = factory.SubFactory(MessageFactory)
    ticket = factory.SelfAttribute("in_reply_to.ticket")
    text = "Hello,\n\nThanks for writing.\nOpen Settings and choose Address.\n\nBest wishes"
    language = "en"
    grounded = True
    confidence = 0.7
    engine = "local"
    engine_version = "1"


class EscalationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Escalation

    ticket = factory.SubFactory(TicketFactory, is_escalated=True)
    reason = "VIP customer"


class ArticleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Article

    title = factory.Sequence(lambda n: f"Article {n}")
    body = "Open Settings and follow the steps on the screen."
    language = "en"
    published = True

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        # Through the service, as every article is made: it starts with its first version.
        return article_create(**kwargs)


class FAQSuggestionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FAQSuggestion

    question = "Do you ship to Antarctica?\nI live at a research station."
    proposed_answer = ""
    language = "en"
    source_ticket = factory.SubFactory(TicketFactory)
