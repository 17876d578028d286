"""The Atom feed of published calls (Django's syndication framework)."""

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed
from django.utils.translation import gettext_lazy as _

from aap.models import Call

FEED_LENGTH = 50


class CallsFeed(Feed):
    feed_type = Atom1Feed
    title = _("Appels à projets du Département")
    subtitle = _("Les appels à projets publiés, les plus récents d'abord.")

    def link(self):
        return reverse("aap:call_list")

    def feed_url(self):
        return reverse("api:calls_feed")

    def author_name(self):
        return settings.AUTHORITY_NAME

    def items(self):
        return (
            Call.objects.public()
            .annotate(listed_at=Coalesce("published_at", "opens_at"))
            .order_by("-listed_at", "-pk")[:FEED_LENGTH]
        )

    def item_title(self, call):
        return f"{call.reference} – {call.title}" if call.reference else call.title

    def item_description(self, call):
        return call.summary

    def item_link(self, call):
        return reverse("aap:call_detail", args=[call.slug])

    def item_guid(self, call):
        return f"{settings.SITE_URL}{reverse('aap:call_detail', args=[call.slug])}"

    item_guid_is_permalink = True

    def item_pubdate(self, call):
        return call.listed_at

    def item_updateddate(self, call):
        return call.updated_at

    def item_categories(self, call):
        return [str(call.get_status_display())]
