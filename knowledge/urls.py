from django.urls import path

from knowledge import views

urlpatterns = [
    path("", views.review, name="knowledge-review"),
    path("suggestions/<int:pk>/", views.suggestion, name="knowledge-suggestion"),
]
