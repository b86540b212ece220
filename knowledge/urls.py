"""The knowledge base's pages, under /knowledge/."""

from django.urls import path

from knowledge import article_views, views

urlpatterns = [
    path("", views.review, name="knowledge-review"),
    path("suggestions/<int:pk>/", views.suggestion, name="knowledge-suggestion"),
    path("articles/", article_views.articles, name="knowledge-articles"),
    path("articles/<int:pk>/", article_views.article, name="knowledge-article"),
    path(
        "articles/<int:pk>/revert/<int:number>/",
        article_views.article_revert,
        name="knowledge-article-revert",
    ),
    path(
        "articles/<int:pk>/translations/propose/",
        article_views.translation_propose,
        name="knowledge-translation-propose",
    ),
    path(
        "translations/<int:pk>/write/",
        article_views.translation_write,
        name="knowledge-translation-write",
    ),
    path(
        "translations/<int:pk>/approve/",
        article_views.translation_approve,
        name="knowledge-translation-approve",
    ),
    path(
        "translations/<int:pk>/reject/",
        article_views.translation_reject,
        name="knowledge-translation-reject",
    ),
]
