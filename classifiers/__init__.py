"""Relevance: is this article about prosecution for online expression in Russia?"""
