async def fetch_all(urls, fetch):
    results = []
    for url in urls:
        results.append(await fetch(url))
    return results
