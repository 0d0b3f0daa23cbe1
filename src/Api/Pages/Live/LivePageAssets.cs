using System.Globalization;
using Vetrina.Grains.Live;

namespace Vetrina.Api.Pages.Live;

/// <summary>
/// The live page's own styles and script, inline under the answer's CSP nonce (nothing is downloaded). The script keeps
/// the page as the session's event stream tells it: it writes prices, deal lines and status as the server does.
/// </summary>
public static class LivePageAssets
{
    public static string StatusText(LiveStatus status) => status switch
    {
        LiveStatus.Live => "LIVE",
        LiveStatus.Ended => "Ended",
        _ => "Starting soon",
    };

    /// <summary>A countdown as <c>m:ss</c>, never negative, rounded up as the script does.</summary>
    public static string Countdown(TimeSpan left)
    {
        var seconds = (long)Math.Ceiling(Math.Max(0, left.TotalSeconds));
        return string.Create(CultureInfo.InvariantCulture, $"{seconds / 60}:{seconds % 60:00}");
    }

    public const string Style = """
        [hidden] { display: none !important; }
        .badge { display: inline-block; padding: .15rem .55rem; border-radius: 999px; font-size: .8rem; font-weight: 700; background: var(--line); }
        .badge.live { background: var(--accent); color: #fff; }
        .product { position: relative; }
        .product.pinned { border-color: var(--accent); box-shadow: inset 0 0 0 2px var(--accent); }
        .pin-tag { display: none; color: var(--accent); font-weight: 700; font-size: .85rem; }
        .product.pinned .pin-tag { display: inline; }
        .offer { display: flex; gap: .75rem; align-items: flex-end; margin-top: .75rem; }
        .offer .qty { margin: 0; font-weight: 600; width: 6rem; }
        .offer .qty input { margin-top: .25rem; }
        .offer button.buy { flex: 1; margin-top: 0; }
        @media (min-width: 720px) { .showcase { display: grid; grid-template-columns: repeat(2, 1fr); gap: 0 1rem; } }
        """;

    /// <summary>
    /// Listens to <c>GET /api/lives/{sessionId}/events</c> (<c>session</c>, <c>pin</c>, <c>deal</c>, <c>viewers</c>), ticks
    /// the deals' countdowns each second against the server's clock, reloads the page when the showcase changes (the
    /// server makes the new forms), and disables buying unless the session is live. A pressed button is disabled
    /// until the answer comes, so a double tap sends one form.
    /// </summary>
    public const string Script = """
        (() => {
          const root = document.getElementById('live');
          if (!root) return;
          const skew = Number(root.dataset.now) - Date.now();
          const now = () => Date.now() + skew;
          const noMinor = new Set(JSON.parse(root.dataset.noMinor));
          const number = n => n.toLocaleString('en-US');
          const money = (minor, currency) => noMinor.has(currency)
            ? number(minor) + ' ' + currency
            : (minor < 0 ? '-' : '') + (Math.abs(minor) / 100).toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 }) + ' ' + currency;
          const countdown = ms => { const s = Math.ceil(Math.max(0, ms) / 1000); return Math.floor(s / 60) + ':' + String(s % 60).padStart(2, '0'); };
          const cards = () => [...root.querySelectorAll('[data-product]')];
          const deals = new Map();
          let status = null, ticking = false;

          // A deal moves on by itself at startsAt and endsAt, as the server's view of it does.
          const stateOf = d => {
            const t = now(), starts = Date.parse(d.startsAt ?? ''), ends = Date.parse(d.endsAt ?? '');
            if ((d.status === 'counting' || d.status === 'active') && t >= ends) return 'ended';
            if (d.status === 'counting' && t >= starts) return 'active';
            return d.status;
          };
          // As a live buy tries them: a selling deal of the session, a selling deal for every session, then one counting down.
          const rankOf = d => { const s = stateOf(d), selling = s === 'active' && d.remaining > 0; return selling ? (d.wide ? 1 : 0) : s === 'counting' ? (d.wide ? 3 : 2) : 9; };
          const dealOf = productId => {
            let best = null;
            for (const d of deals.values()) {
              if (d.productId === productId && rankOf(d) < 9 && (best === null || rankOf(d) < rankOf(best))) best = d;
            }
            return best;
          };
          const paint = card => {
            const regular = Number(card.dataset.priceMinor), currency = card.dataset.currency;
            const price = card.querySelector('[data-price]'), was = card.querySelector('[data-was]'), line = card.querySelector('[data-deal]');
            const d = dealOf(card.dataset.product), s = d && stateOf(d);
            if (s === 'active' && d.remaining > 0) {
              price.textContent = money(d.dealPriceMinor, d.currency);
              was.textContent = money(regular, currency);
              was.hidden = false;
              line.textContent = `Flash deal · ${number(d.remaining)} of ${number(d.units)} left · up to ${d.perBuyerLimit} each · ends in ${countdown(Date.parse(d.endsAt) - now())}`;
              line.hidden = false;
            } else if (s === 'counting') {
              price.textContent = money(regular, currency);
              was.hidden = true;
              line.textContent = `Flash deal at ${money(d.dealPriceMinor, d.currency)} starts in ${countdown(Date.parse(d.startsAt) - now())}`;
              line.hidden = false;
            } else {
              price.textContent = money(regular, currency);
              was.hidden = true;
              line.hidden = true;
            }
          };
          const paintAll = () => cards().forEach(paint);
          const pin = productId => {
            const list = root.querySelector('[data-showcase-list]');
            let title = null;
            for (const card of cards()) {
              const on = card.dataset.product === productId;
              card.classList.toggle('pinned', on);
              if (on) { title = card.dataset.title; list.prepend(card); }
            }
            const strip = document.getElementById('pinned');
            strip.querySelector('strong').textContent = title ?? '';
            strip.hidden = title === null;
          };
          const setStatus = s => {
            status = s;
            const badge = document.getElementById('status');
            badge.textContent = s === 'live' ? 'LIVE' : s === 'ended' ? 'Ended' : 'Starting soon';
            badge.className = 'badge ' + s;
            document.getElementById('ended').hidden = s !== 'ended';
            document.getElementById('soon').hidden = s !== 'scheduled';
            root.querySelectorAll('form[data-buy] button').forEach(b => { b.disabled = s !== 'live'; });
          };
          const viewers = n => { document.getElementById('viewers').textContent = number(n); };

          // The product's deals for every session, as the page was made: the session's stream does not tell of them.
          for (const card of cards()) for (const d of JSON.parse(card.dataset.productDeals || '[]')) deals.set(d.dealId, { ...d, wide: true });
          const source = new EventSource(root.dataset.events);
          source.addEventListener('session', e => {
            const session = JSON.parse(e.data);
            if ((session.showcase ?? []).join(',') !== root.dataset.showcase) { source.close(); location.reload(); return; }
            setStatus(session.status);
            for (const d of session.deals ?? []) deals.set(d.dealId, d);
            pin(session.pinnedProductId ?? null);
            viewers(session.viewers);
            paintAll();
            if (!ticking) { ticking = true; setInterval(paintAll, 1000); }
            if (status === 'ended') source.close();
          });
          source.addEventListener('pin', e => pin(JSON.parse(e.data).pinnedProductId ?? null));
          source.addEventListener('deal', e => { const d = JSON.parse(e.data); deals.set(d.dealId, d); paintAll(); });
          source.addEventListener('viewers', e => viewers(JSON.parse(e.data).viewers));

          for (const form of root.querySelectorAll('form[data-buy]')) {
            form.addEventListener('submit', e => {
              const button = form.querySelector('button');
              if (button.disabled) { e.preventDefault(); return; }
              button.disabled = true;
              button.textContent = 'Buying…';
            });
          }
        })();
        """;
}
