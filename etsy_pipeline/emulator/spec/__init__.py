"""A skeleton of Etsy's OpenAPI document, committed so the conformance checks need nothing outside the repo."""
