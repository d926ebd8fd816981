from django.core.cache import cache
from django.db import transaction
from django.http import Http404, HttpRequest, JsonResponse
from django.views.decorators.http import require_POST

from cachequeue_django import job_status

from .tasks import send_welcome_email


@require_POST
def signup(request: HttpRequest) -> JsonResponse:
    email = request.POST["email"]
    with transaction.atomic():
        # ... create the account here: the job and the counter commit with it, or not at all.
        job_id = send_welcome_email.enqueue({"email": email})
        cache.add("signups", 0, timeout=None)
        signups = cache.incr("signups")
    return JsonResponse({"job": job_id, "signups": signups})


def job(request: HttpRequest, job_id: int) -> JsonResponse:
    found = job_status(job_id)
    if found is None:
        raise Http404("no such job")
    return JsonResponse({"status": found.status, "result": found.result,
                         "error": found.last_error})
