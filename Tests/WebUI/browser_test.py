#!/usr/bin/env python3
"""The web UI in a real browser (Debian's chromium and chromedriver, driven by selenium) against real
`hen-backup daemon` processes and a real restic repository. `make test` runs it after `swift test`.

Scenarios (issue 14): the overview lists the backups and repositories, "Back up now" reaches `succeeded`
live and the new snapshot appears without a reload; a file downloaded from the browser matches its source
and a folder restored from it matches too; a snapshot of a removed backup definition is highlighted and
forgetting it removes it from restic (another host's snapshots never show); with auth on the login is asked
for, a wrong password refused with a message, the right one works (with auth off on loopback, no login);
recovery mode shows its banner and no backup button; no page logs a console error. Along the way it saves
a screenshot of each page, light and dark, in --screenshots (docs/screenshots/ by default; `make test`
passes .build/screenshots/ so that a test run changes nothing in the checkout, `make screenshots` the
default).

Recovery confidence (issue 19): "Restore drill" on the overview runs a drill live to succeeded and the card
shows its counts; a source file swapped for other bytes of the same size and mtime makes a drill fail, and
the card and the summary name the file; deleting more files than alarm.removed_over raises the alarm on the
overview, its "What changed" shows exactly the removed paths over two pages, and "Acknowledge" clears it
(the API agrees); the backup's first snapshot has no parent and the diff page says so; in recovery mode a
drill still runs.

Usage: python3 Tests/WebUI/browser_test.py [--binary .build/debug/hen-backup] [--screenshots docs/screenshots]
"""
import argparse
import base64
import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import warnings

with warnings.catch_warnings():
    # The login test's bcrypt hash; the module is deprecated in Python 3.13, present in Debian 12's 3.11.
    warnings.simplefilter("ignore", DeprecationWarning)
    import crypt

# Selenium Manager must not download anything: the Debian chromedriver is named explicitly.
os.environ["SE_OFFLINE"] = "true"
from selenium import webdriver  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402
from selenium.webdriver.support.select import Select  # noqa: E402
from selenium.common.exceptions import StaleElementReferenceException  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
UI_DIR = os.path.join(ROOT, "Sources/HenServer/Resources/ui")
HOST = "ui-test-host"
PASSWORD = "correct horse battery staple"
# Generous: two cores shared by several builds. Conditions are waited for, never durations.
WAIT = 90


class Failure(Exception):
    pass


def check(condition, message):
    if not condition:
        raise Failure(message)


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def restic(repository, *arguments, check_exit=True):
    environment = dict(os.environ, RESTIC_PASSWORD=PASSWORD, RESTIC_REPOSITORY=repository)
    result = subprocess.run(["restic", *arguments], env=environment, capture_output=True, text=True)
    if check_exit and result.returncode != 0:
        raise Failure(f"restic {' '.join(arguments)} failed: {result.stderr.strip()}")
    return result.stdout


def snapshots(repository):
    return json.loads(restic(repository, "snapshots", "--json") or "[]")


class Daemon:
    """One `hen-backup daemon` on a free port, its output in a file, stopped with SIGTERM by `stop`."""

    def __init__(self, binary, work, name, config_text, extra=()):
        self.port = free_port()
        self.config = os.path.join(work, f"{name}.yml")
        self.log_path = os.path.join(work, f"{name}.log")
        with open(self.config, "w") as file:
            file.write(config_text.replace("PORT", str(self.port)))
        self.log = open(self.log_path, "w")
        self.process = subprocess.Popen([binary, "daemon", "--config", self.config, *extra], stdout=self.log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        self.url = f"http://127.0.0.1:{self.port}/"
        deadline = time.time() + WAIT
        while True:
            check(self.process.poll() is None, f"daemon {name} exited: {self.output()}")
            try:
                with urllib.request.urlopen(self.url + "api/v1/health", timeout=5) as answer:
                    if answer.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError, OSError):
                pass
            check(time.time() < deadline, f"daemon {name} did not answer: {self.output()}")
            time.sleep(0.2)

    def output(self):
        with open(self.log_path) as file:
            return file.read()

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=WAIT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
                raise Failure("the daemon did not stop on SIGTERM")
        self.log.close()


class Browser:
    def __init__(self, downloads):
        options = webdriver.ChromeOptions()
        options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
        for argument in ["--headless=new", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,900", "--lang=en-US", "--no-first-run"]:
            options.add_argument(argument)
        if os.geteuid() == 0:
            options.add_argument("--no-sandbox")
        options.add_experimental_option("prefs", {"download.default_directory": downloads, "download.prompt_for_download": False})
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        service = Service(executable_path=shutil.which("chromedriver") or "/usr/bin/chromedriver")
        self.driver = webdriver.Chrome(service=service, options=options)
        self.driver.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": downloads})
        self.downloads = downloads
        self.allowed_errors = []

    def wait(self, condition, message, timeout=WAIT):
        try:
            # The pages redraw parts of themselves as events come: an element found a moment ago may be gone.
            return WebDriverWait(self.driver, timeout, poll_frequency=0.1, ignored_exceptions=[StaleElementReferenceException]).until(lambda driver: condition())
        except Exception as error:
            raise Failure(f"{message} (page: {self.driver.current_url}; {type(error).__name__}; text: {self.text()[:1500]!r})")

    def text(self):
        try:
            return self.driver.find_element(By.TAG_NAME, "body").text
        except Exception:
            return ""

    def find(self, selector):
        return self.driver.find_elements(By.CSS_SELECTOR, selector)

    def one(self, selector, message=None):
        return self.wait(lambda: (self.find(selector) or [None])[0], message or f"no {selector}")

    def go(self, url):
        self.driver.get(url)

    def text_of(self, selector):
        return self.wait(lambda: self.find(selector)[0].text if self.find(selector) else None, f"no {selector}")

    def leave(self):
        """Off the daemon's pages before it stops: its event stream would log reconnection errors."""
        self.driver.get("about:blank")

    def console_errors(self):
        """Severe console entries since the last call, except those a scenario expects."""
        errors = [entry for entry in self.driver.get_log("browser") if entry["level"] == "SEVERE"]
        return [entry for entry in errors if not any(allowed in entry["message"] for allowed in self.allowed_errors)]

    def expect_no_console_errors(self, where):
        errors = self.console_errors()
        check(not errors, f"console errors on {where}: {errors}")

    def screenshot(self, directory, name):
        if not directory:
            return
        for scheme in ["light", "dark"]:
            self.driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": [{"name": "prefers-color-scheme", "value": scheme}]})
            time.sleep(0.15)  # one frame for the new colours; a picture, not a condition of the test
            self.driver.save_screenshot(os.path.join(directory, f"{name}-{scheme}.png"))
        self.driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": [{"name": "prefers-color-scheme", "value": "light"}]})

    def quit(self):
        self.driver.quit()


def config(work, data, repository, source, auth="auth: none"):
    return f"""hostname: {HOST}
data_dir: {data}
status_interval: 1s
api:
  listen: 127.0.0.1:PORT
  {auth}
restore: {{ allowed_targets: [{work}/restores] }}
repositories:
  local:
    location: {repository}
    password_file: {work}/password
backups:
  documents:
    paths: [{source}]
    schedules: ["0 30 2 * * *"]  # cron: nothing runs at start, the test starts the backup
    repositories: [local]
    retention: {{ keep_last: 10 }}
    drill: {{ sample: 5 }}
    alarm: {{ removed_over: 200, protect: true }}
  letters:
    paths: [{source}/docs/letters]
    repositories: [local]
    drill: {{ sample: 100% }}
"""


def make_source(source):
    os.makedirs(os.path.join(source, "docs", "letters"))
    with open(os.path.join(source, "docs", "notes.txt"), "w") as file:
        file.write("buy eggs\n")
    with open(os.path.join(source, "docs", "letters", "to grandma.txt"), "w") as file:
        file.write("Dear grandma,\nthe hens are fine.\n")
    with open(os.path.join(source, "photo.bin"), "wb") as file:
        file.write(os.urandom(300_000))
    # A directory of 3,000 entries: the browser pages it 200 at a time (as it would 10,000; fewer keep the
    # backup and the tree's index quick on a loaded machine).
    many = os.path.join(source, "many")
    os.makedirs(many)
    for index in range(3_000):
        with open(os.path.join(many, f"entry-{index:05d}.txt"), "w") as file:
            file.write(str(index))


def check_headers(url):
    """Cache-Control, ETag (and 304), CSP without inline scripts, nosniff; every asset within 150 KB."""
    with urllib.request.urlopen(url) as answer:
        page = answer.read().decode()
        headers = answer.headers
    check("no-cache" in headers.get("Cache-Control", ""), f"Cache-Control of /: {headers.get('Cache-Control')}")
    etag = headers.get("ETag")
    check(etag and etag.startswith('"'), f"ETag of /: {etag}")
    csp = headers.get("Content-Security-Policy", "")
    check("script-src 'self'" in csp and "default-src 'none'" in csp and "unsafe-inline" not in csp, f"CSP of /: {csp}")
    check(headers.get("X-Content-Type-Options") == "nosniff", "nosniff missing on /")
    request = urllib.request.Request(url, headers={"If-None-Match": etag})
    try:
        urllib.request.urlopen(request)
        raise Failure("a matching If-None-Match was not answered 304")
    except urllib.error.HTTPError as error:
        check(error.code == 304, f"If-None-Match answered {error.code}")
    # The files stay behind the Host check: a DNS-rebinding page cannot load them either.
    try:
        urllib.request.urlopen(urllib.request.Request(url, headers={"Host": "evil.example:8420"}))
        raise Failure("/ answered a Host this daemon does not serve")
    except urllib.error.HTTPError as error:
        check(error.code == 421, f"a foreign Host on / answered {error.code}")
    check("<script>" not in page and "<script type=\"module\" src=" in page, "index.html has an inline script")
    total = 0
    for name in sorted(os.listdir(UI_DIR)):
        with urllib.request.urlopen(url + "ui/" + name) as answer:
            body = answer.read()
            check(answer.headers.get("ETag"), f"no ETag on {name}")
            check(answer.headers.get("X-Content-Type-Options") == "nosniff", f"no nosniff on {name}")
        with open(os.path.join(UI_DIR, name), "rb") as file:
            check(file.read() == body, f"/ui/{name} is not the file in the repository")
        total += len(body)
    check(total <= 150 * 1024, f"the UI's assets weigh {total} bytes, over 150 KB")
    return total


def wait_file(path, timeout=WAIT):
    deadline = time.time() + timeout
    while not (os.path.exists(path) and not os.path.exists(path + ".crdownload")):
        check(time.time() < deadline, f"the download {path} did not arrive")
        time.sleep(0.1)
    return path


def scenario_normal(daemon, browser, shots, repository, source, work):
    check(f"Web UI at {daemon.url}" in daemon.output(), "the daemon does not log the UI's URL")
    size = check_headers(daemon.url)
    print(f"  assets: {size} bytes")

    # Overview: the backup and its repository, no login with auth off on loopback.
    browser.go(daemon.url)
    browser.one('article[data-backup="documents"] tr[data-repository="local"]', "the overview shows no documents card with repository local")
    check(not browser.find("#login-name"), "a login was asked for with auth none on loopback")
    browser.driver.execute_script("window.__sameDocument = true;")
    before = {snapshot["id"] for snapshot in snapshots(repository)}

    # Back up now: live progress to succeeded, then the new snapshot in the card, without a reload.
    card = 'article[data-backup="documents"]'
    Select(browser.one(f"{card} select")).select_by_value("next")
    browser.one(f"{card} .backup-form button").click()
    browser.one(f"{card} .live .progress-block", "no live progress after Back up now")
    browser.wait(lambda: browser.find(f'{card} .live .progress-block[data-state="succeeded"]'), "the backup job did not reach succeeded on the overview")
    new = [snapshot for snapshot in snapshots(repository) if snapshot["id"] not in before and snapshot["hostname"] == HOST]
    check(len(new) == 1, f"restic has {len(new)} new snapshots after the backup")
    snapshot = new[0]
    browser.wait(lambda: any(link.text == snapshot["short_id"] for link in browser.find(f'{card} tr[data-repository="local"] a.snapshot-id')), "the new snapshot did not appear on the overview")
    check(browser.driver.execute_script("return window.__sameDocument === true;"), "the page was reloaded")
    check("100 %" in browser.text_of(f"{card} .live .percent"), "the finished job does not show 100 %")
    browser.expect_no_console_errors("the overview")
    browser.screenshot(shots, "overview")

    # Jobs: the history lists the job; its page shows the timeline and the log.
    job_id = browser.text_of(f"{card} .live .live-title a")
    browser.go(daemon.url + "#/jobs")
    browser.one(f'tr[data-job="{job_id}"]', "the job is not in the history")
    browser.expect_no_console_errors("the jobs page")
    browser.screenshot(shots, "jobs")
    browser.go(daemon.url + f"#/jobs/{job_id}")
    browser.one(".timeline .step-succeeded", "the job page shows no succeeded step")
    browser.wait(lambda: "restic backup" in browser.text_of("pre.log"), "the job page shows no log")
    browser.expect_no_console_errors("the job page")
    browser.screenshot(shots, "job")

    # Snapshots: the removed definition's snapshot is marked; another host's never shows.
    browser.go(daemon.url + "#/snapshots")
    browser.one('section[data-repository="local"] tr[data-snapshot]', "the snapshots page lists nothing")
    unknown_rows = browser.find("tr.row-unknown")
    check(len(unknown_rows) == 1 and "unknown backup definition" in unknown_rows[0].text, f"{len(unknown_rows)} highlighted snapshots")
    other = [s for s in snapshots(repository) if s["hostname"] != HOST]
    check(other and not browser.find(f'tr[data-snapshot="{other[0]["id"]}"]') and other[0]["short_id"] not in browser.text(), "another host's snapshot is shown")
    browser.expect_no_console_errors("the snapshots page")
    browser.screenshot(shots, "snapshots")

    # Browser: from the snapshot list to a file; its download matches the source.
    browser.one(f'tr[data-snapshot="{snapshot["id"]}"] a').click()
    browser.one(f'tr[data-path="{source}/docs"] a', "the browser does not start at the backed-up folder").click()
    browser.one(f'tr[data-path="{source}/docs/letters"] a').click()
    link = browser.one(f'tr[data-path="{source}/docs/letters/to grandma.txt"] td.name a')
    link.click()
    downloaded = wait_file(os.path.join(browser.downloads, "to grandma.txt"))
    with open(downloaded, "rb") as got, open(os.path.join(source, "docs/letters/to grandma.txt"), "rb") as want:
        check(got.read() == want.read(), "the downloaded file differs from the source")
    # The binary file too, byte for byte.
    browser.go(daemon.url + f"#/browse/local/{snapshot['id']}?path={source}")
    browser.one(f'tr[data-path="{source}/photo.bin"] td.name a').click()
    downloaded = wait_file(os.path.join(browser.downloads, "photo.bin"))
    with open(downloaded, "rb") as got, open(os.path.join(source, "photo.bin"), "rb") as want:
        check(hashlib.sha256(got.read()).digest() == hashlib.sha256(want.read()).digest(), "the downloaded photo.bin differs")

    # A big directory: a page of 200 rows, then the next.
    browser.one(f'tr[data-path="{source}/many"] td.name a').click()
    browser.one(f'tr[data-path="{source}/many/entry-00000.txt"]', "the big directory does not open")
    check(len(browser.find("table.tree tbody tr")) == 200, f"{len(browser.find('table.tree tbody tr'))} rows of 3,000 on screen")
    browser.one('a[rel="next"]').click()
    browser.one(f'tr[data-path="{source}/many/entry-00200.txt"]', "the second page of the big directory does not open")
    check(len(browser.find("table.tree tbody tr")) == 200 and "Entries 201–400" in browser.text(), "the second page is not entries 201-400")
    browser.expect_no_console_errors("the browser")

    # Restore the docs folder to an allowed target, then follow the job to its end.
    browser.go(daemon.url + f"#/browse/local/{snapshot['id']}?path={source}")
    browser.one(f'tr[data-path="{source}/docs"] input[type="checkbox"]').click()
    target = os.path.join(work, "restores", "from-ui")
    browser.one("#restore-target").send_keys(target)
    browser.screenshot(shots, "browser")
    browser.one("form.restore button").click()
    browser.wait(lambda: "#/jobs/" in browser.driver.current_url, "the restore did not lead to its job")
    browser.wait(lambda: browser.find(".job-head .state-succeeded"), "the restore job did not succeed")
    for relative in ["docs/notes.txt", "docs/letters/to grandma.txt"]:
        with open(os.path.join(target + source, relative), "rb") as got, open(os.path.join(source, relative), "rb") as want:
            check(got.read() == want.read(), f"the restored {relative} differs")
    check(not os.path.exists(target + source + "/photo.bin"), "the restore wrote more than the selected folder")
    browser.expect_no_console_errors("the restore job")

    # Forget the unknown definition's snapshot, after a confirmation naming the repository and count.
    unknown = [s for s in snapshots(repository) if "backup=old-docs" in (s.get("tags") or [])]
    check(len(unknown) == 1, "the test's old-docs snapshot is missing")
    browser.go(daemon.url + "#/snapshots")
    browser.one('section[data-repository="local"] .notice-warning button.danger', "no forget action for the unknown snapshots").click()
    dialog = browser.one("dialog.confirm[open]")
    check("local" in dialog.text and "1 snapshot" in dialog.text, f"the confirmation says {dialog.text!r}")
    dialog.find_element(By.CSS_SELECTOR, 'button[value="forget"]').click()
    browser.wait(lambda: not browser.find("tr.row-unknown") and browser.find('section[data-repository="local"] tr[data-snapshot]'), "the forgotten snapshot is still listed")
    check(unknown[0]["id"] not in {s["id"] for s in snapshots(repository)}, "restic still has the forgotten snapshot")
    check(any(s["id"] == snapshot["id"] for s in snapshots(repository)), "the forget removed another snapshot")
    browser.expect_no_console_errors("the forget")

    recovery_confidence(daemon, browser, shots, source, snapshot)

    # Settings: version, hostname, mode, redacted configuration; a reload of a broken file names positions.
    browser.go(daemon.url + "#/settings")
    check(browser.text_of("dd.hostname") == HOST and browser.text_of("dd.mode") == "normal", "settings show the wrong host or mode")
    check(browser.text_of("dd.version").strip(), "settings show no version")
    browser.screenshot(shots, "settings")
    with open(daemon.config) as file:
        good = file.read()
    with open(daemon.config, "w") as file:
        file.write(good.replace("retention: { keep_last: 10 }", "retention: { keep_last: many }"))
    browser.one("section button.primary").click()
    position = browser.text_of(".issues li .position")
    check(position.startswith(daemon.config + ":") and position.count(":") >= 2, f"the error's position is {position!r}")
    with open(daemon.config, "w") as file:
        file.write(good)
    # Chrome logs the refused reload (422) itself; nothing else may be logged.
    browser.allowed_errors = ["/api/v1/config/reload - Failed to load resource: the server responded with a status of 422"]
    browser.expect_no_console_errors("the refused reload")
    browser.allowed_errors = []
    browser.one("section button.primary").click()
    browser.one(".reload-result .notice-success", "the good file did not reload")
    browser.expect_no_console_errors("the settings")


def api(daemon, path, method="GET"):
    request = urllib.request.Request(daemon.url + "api/v1" + path, method=method, headers={"Accept": "application/json"})
    with urllib.request.urlopen(request) as answer:
        return json.loads(answer.read())


def recovery_confidence(daemon, browser, shots, source, first):
    """Drills, the mass-deletion alarm and a snapshot's diff, through the overview and the diff page."""
    card = 'article[data-backup="documents"]'
    letters = 'article[data-backup="letters"]'

    # The backup's first snapshot has no parent: the diff page says so (Chrome logs the 404 itself).
    browser.allowed_errors = ["/diff?against=parent&limit=200 - Failed to load resource: the server responded with a status of 404"]
    browser.go(daemon.url + f"#/diff/local/{first['id']}")
    message = browser.one("main .notice-info", "the diff of a first snapshot shows no notice")
    check("has no parent" in message.text, f"the diff of a first snapshot says {message.text!r}")
    browser.expect_no_console_errors("the diff without a parent")
    browser.allowed_errors = []

    # A drill from the overview: live to succeeded, then its counts in the card (and in its job record).
    browser.go(daemon.url)
    browser.one(f"{card} button.drill").click()
    browser.wait(lambda: browser.find(f'{card} .live .progress-block[data-state="succeeded"]'), "the drill did not succeed on the overview")
    drill_id = browser.text_of(f"{card} .live .live-title a")
    browser.wait(lambda: "5 matched · 0 differed · 0 skipped" in browser.text_of(f"{card} dd.last-drill"), "the card does not show the drill's counts")
    check(browser.find(f"{card} dd.last-drill .state-succeeded"), "the last drill is not shown as succeeded")
    record = api(daemon, f"/jobs/{drill_id}")
    check(record["operation"] == "drill" and record["results"][0]["drill"]["matched"] == 5, f"the drill's record says {record['results']}")

    # A source swapped for other bytes of the same size and mtime, after its backup: the drill fails naming it.
    browser.one(f"{letters} .backup-form button").click()
    browser.wait(lambda: browser.find(f'{letters} .live .progress-block[data-state="succeeded"]'), "the backup of letters did not succeed")
    letter = os.path.join(source, "docs/letters/to grandma.txt")
    info = os.stat(letter)
    with open(letter, "rb") as file:
        original = file.read()
    with open(letter, "wb") as file:
        file.write(original.replace(b"fine", b"gone"))
    os.utime(letter, ns=(info.st_atime_ns, info.st_mtime_ns))
    try:
        browser.one(f"{letters} button.drill").click()
        browser.wait(lambda: browser.find(f'{letters} .live .progress-block[data-state="failed"]'), "the drill of a swapped file did not fail")
        browser.wait(lambda: letter in browser.text_of(f"{letters} dd.last-drill .problem-text"), "the card does not name the file that differs")
        check("1 differed" in browser.text_of(f"{letters} dd.last-drill"), "the card does not count the file that differs")
        browser.wait(lambda: letter in browser.text_of(".summary .notice-error"), "the summary does not report the failed drill")
        check(browser.find(f"{letters}.card-problem") and "Last drill failed" in browser.text_of(f"{letters} .card-head"), "the card of the failed drill is not marked")
    finally:
        with open(letter, "wb") as file:
            file.write(original)
        os.utime(letter, ns=(info.st_atime_ns, info.st_mtime_ns))
    browser.expect_no_console_errors("the drills")

    # 250 files deleted, more than removed_over: 200: the next backup ends warning with the alarm raised.
    removed = {os.path.join(source, "many", f"entry-{index:05d}.txt") for index in range(250)}
    for path in removed:
        os.remove(path)
    browser.one(f"{card} .backup-form button").click()
    browser.wait(lambda: browser.find(f'{card} .live .progress-block[data-state="warning"]'), "the backup that removed 250 files did not end warning")
    alarm = browser.one(f"{card} .alarm", "the overview shows no alarm")
    check("250" in alarm.text and "removed_over: 200" in alarm.text, f"the alarm says {alarm.text!r}")
    check(browser.find(f"{card} .card-head .state-alarm"), "the card's state is not the alarm")
    browser.wait(lambda: "Mass-deletion alarm for backup documents" in browser.text_of(".summary"), "the summary does not report the alarm")
    browser.expect_no_console_errors("the alarm")
    browser.screenshot(shots, "alarm")

    # What changed: exactly the 250 removed files, 200 on the first page and 50 on the second.
    browser.one(f"{card} .alarm a.diff-link").click()
    browser.wait(lambda: browser.text_of(".diff-counts dd.removed") == "250", "the diff does not count 250 removed")
    check(browser.text_of(".diff-counts dd.added") == "0" and browser.text_of(".diff-counts dd.modified") == "0", "the diff counts added or modified files")

    def rows():
        return [(row.get_attribute("data-change"), row.get_attribute("data-path")) for row in browser.find("table.diff tbody tr")]
    first_page = rows()
    check(len(first_page) == 200, f"the first page of the diff has {len(first_page)} rows")
    browser.screenshot(shots, "diff")
    browser.one('a[rel="next"]').click()
    browser.wait(lambda: "Changes 201–" in browser.text(), "the second page of the diff does not open")
    listed = first_page + rows()
    check({path for change, path in listed if change == "removed"} == removed, "the diff's removed paths are not the deleted files")
    check(all(change == "removed" for change, _ in listed) and len(listed) == 250, f"the diff lists other changes: {[row for row in listed if row[0] != 'removed'][:5]}")
    check(not browser.find('a[rel="next"]'), "the diff offers a third page")
    # One kind only: nothing was added.
    Select(browser.one('select[name="change"]')).select_by_value("added")
    browser.wait(lambda: "change=added" in browser.driver.current_url and "Nothing changed." in browser.text(), "the added-only diff is not empty")
    browser.expect_no_console_errors("the diff")

    # Acknowledge: the alarm goes from the card and the summary; the API agrees.
    browser.go(daemon.url)
    browser.one(f"{card} .alarm button.danger").click()
    browser.wait(lambda: not browser.find(f"{card} .alarm") and "acknowledged" in browser.text_of(f"{card} dd.last-alarm"), "the acknowledged alarm is still shown")
    overview = next(backup for backup in api(daemon, "/backups")["items"] if backup["name"] == "documents")
    check(overview["alarm"]["acknowledged_at"] and overview["alarm"]["removed"] == 250, f"the API's alarm is {overview['alarm']}")
    check(not any(problem["kind"] == "backup_alarm" for problem in api(daemon, "/status")["problems"]), "the status still reports the alarm")
    browser.expect_no_console_errors("the acknowledgement")


def scenario_auth(daemon, browser, shots, repository, source, work):
    for page in ["", "#/jobs", "#/snapshots", "#/settings"]:
        browser.go(daemon.url + page)
        browser.one("#login-name", f"no login on {page or '/'}")
        check(not browser.find("article.card") and not browser.find("table"), f"{page or '/'} shows data before the login")
    browser.expect_no_console_errors("the login page")
    browser.screenshot(shots, "login")
    browser.one("#login-name").send_keys("alice")
    browser.one("#login-password").send_keys("wrong password")
    browser.one("form.login button").click()
    message = browser.one(".login-message .notice-error", "a wrong password shows no message")
    check("Wrong user name or password" in message.text, f"the wrong password says {message.text!r}")
    check(browser.find("#login-name"), "a wrong password let the user in")
    # The browser logs the refused POST /login (401) itself; nothing else may be logged.
    browser.allowed_errors = ["/api/v1/login - Failed to load resource: the server responded with a status of 401"]
    browser.expect_no_console_errors("the refused login")
    browser.allowed_errors = []
    password = browser.one("#login-password")
    password.clear()
    password.send_keys("hen's secret")
    browser.one("form.login button").click()
    # The login leads back to the page that asked for it (settings, the last one opened).
    browser.wait(lambda: "user:alice" in browser.text() and browser.find("dd.hostname"), "the right password did not open the settings")
    browser.go(daemon.url + "#/")
    browser.one('article[data-backup="documents"]', "the overview does not open once logged in")
    check(browser.find("#logout") and browser.one("#logout").is_displayed(), "no logout button")
    browser.one("#logout").click()
    browser.one("#login-name", "the logout does not bring the login back")
    browser.expect_no_console_errors("the login")


def scenario_recovery(daemon, browser, shots, repository, source, work):
    browser.go(daemon.url)
    browser.one('article[data-backup="documents"]', "no overview in recovery mode")
    banner = browser.one("#banner")
    check(banner.is_displayed() and "Recovery mode" in banner.text, "no recovery banner")
    check(not browser.find(".backup-form") and "Back up now" not in browser.text(), "a backup button in recovery mode")
    browser.screenshot(shots, "recovery")
    # A drill only reads the repository and writes below data_dir: recovery mode runs it.
    card = 'article[data-backup="documents"]'
    browser.one(f"{card} button.drill", "no drill button in recovery mode").click()
    browser.wait(lambda: browser.find(f'{card} .live .progress-block[data-state="succeeded"]'), "the drill did not succeed in recovery mode")
    for page in ["#/jobs", "#/snapshots", "#/settings"]:
        browser.go(daemon.url + page)
        browser.one("main h1")
        check(browser.one("#banner").is_displayed(), f"no banner on {page}")
    browser.go(daemon.url + "#/snapshots")
    browser.one('section[data-repository="local"] tr[data-snapshot]')
    check(not browser.find("button.danger"), "a forget button in recovery mode")
    browser.expect_no_console_errors("recovery mode")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", default=os.path.join(ROOT, ".build/debug/hen-backup"))
    parser.add_argument("--screenshots", default=os.path.join(ROOT, "docs/screenshots"))
    arguments = parser.parse_args()
    started = time.time()
    work = tempfile.mkdtemp(prefix="hen-ui-test-")
    shots = arguments.screenshots
    if shots:
        os.makedirs(shots, exist_ok=True)
    browser = None
    try:
        with open(os.path.join(work, "password"), "w") as file:
            file.write(PASSWORD + "\n")
        os.makedirs(os.path.join(work, "restores"))
        source = os.path.join(work, "source")
        make_source(source)
        repository = os.path.join(work, "repository")
        # Before the daemons: a snapshot of a backup definition that no longer exists, and another host's.
        restic(repository, "init")
        restic(repository, "backup", "--host", HOST, "--tag", "backup=old-docs", os.path.join(source, "docs"))
        restic(repository, "backup", "--host", "other-host", "--tag", "backup=documents", os.path.join(source, "docs"))
        downloads = os.path.join(work, "downloads")
        os.makedirs(downloads)
        browser = Browser(downloads)
        hashed = crypt.crypt("hen's secret", crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=1 << 4))
        auth = "auth: { users: [ { name: alice, password_hash: \"" + hashed + "\" } ] }"
        plans = [
            ("normal", config(work, os.path.join(work, "data-normal"), repository, source), [], scenario_normal),
            ("auth", config(work, os.path.join(work, "data-auth"), repository, source, auth), [], scenario_auth),
            ("recovery", config(work, os.path.join(work, "data-recovery"), repository, source), ["--read-only"], scenario_recovery),
        ]
        for name, text, extra, scenario in plans:
            began = time.time()
            daemon = Daemon(arguments.binary, work, name, text, extra)
            try:
                scenario(daemon, browser, shots, repository, source, work)
            except Exception:
                print(daemon.output()[-4000:], file=sys.stderr)
                raise
            finally:
                browser.leave()
                daemon.stop()
            print(f"  {name}: passed in {time.time() - began:.1f} s")
    except Failure as failure:
        print(f"web UI test FAILED: {failure}", file=sys.stderr)
        return 1
    finally:
        if browser:
            browser.quit()
        shutil.rmtree(work, ignore_errors=True)
    print(f"web UI tests passed in {time.time() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
