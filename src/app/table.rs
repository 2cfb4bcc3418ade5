//! The generic table every tab is: items, the filtered and sorted view of them, the selection and
//! the scroll offset. `update` drives any table through [`TableOps`], whatever its row type.

use super::filter::Query;
use super::rows::{self, Row};

/// Filter, selection and scroll of one table.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ListState {
    keys: Vec<String>,
    /// Indices of the items that pass the filter, in table order.
    pub view: Vec<u32>,
    pub filter: String,
    pub selected: usize,
    pub offset: usize,
    /// Sorted by (column, descending); `None` keeps the source's order.
    pub sort: Option<(usize, bool)>,
    pub grouped: bool,
}

impl ListState {
    fn set_keys(&mut self, keys: Vec<String>) {
        self.keys = keys;
        self.refilter(None);
    }

    /// Re-apply the filter. When the new filter narrows `before` (more letters or more terms), only
    /// rows that matched before can match now, so only they are checked.
    fn refilter(&mut self, before: Option<&str>) {
        let q = Query::new(&self.filter);
        if q.is_empty() {
            self.view = (0..self.keys.len() as u32).collect();
        } else if before.is_some_and(|old| {
            let old = Query::new(old);
            !old.is_empty() && q.narrows(&old)
        }) {
            let keys = &self.keys;
            self.view.retain(|&i| q.matches(&keys[i as usize]));
        } else {
            self.view = self
                .keys
                .iter()
                .enumerate()
                .filter(|(_, k)| q.matches(k))
                .map(|(i, _)| i as u32)
                .collect();
        }
        self.clamp();
    }

    pub fn set_filter(&mut self, filter: String) {
        let old = std::mem::replace(&mut self.filter, filter);
        self.refilter(Some(&old));
    }

    pub fn selected_item(&self) -> Option<usize> {
        self.view.get(self.selected).map(|&i| i as usize)
    }

    pub(crate) fn clamp(&mut self) {
        if self.view.is_empty() {
            self.selected = 0;
            self.offset = 0;
        } else if self.selected >= self.view.len() {
            self.selected = self.view.len() - 1;
        }
    }

    pub(crate) fn move_to(&mut self, target: isize, height: usize) {
        if self.view.is_empty() {
            return;
        }
        self.selected = target.clamp(0, self.view.len() as isize - 1) as usize;
        self.scroll_into_view(height);
    }

    pub(crate) fn scroll_into_view(&mut self, height: usize) {
        let h = height.max(1);
        if self.selected < self.offset {
            self.offset = self.selected;
        } else if self.selected >= self.offset + h {
            self.offset = self.selected + 1 - h;
        }
        let max_offset = self.view.len().saturating_sub(h);
        self.offset = self.offset.min(max_offset);
    }

    /// The first visible row: the stored offset, moved just enough to show the selection.
    pub fn visible_offset(&self, height: usize) -> usize {
        let h = height.max(1);
        let mut off = self.offset.min(self.view.len().saturating_sub(h));
        if self.selected < off {
            off = self.selected;
        } else if self.selected >= off + h {
            off = self.selected + 1 - h;
        }
        off
    }
}

/// One table: its items and its list state.
#[derive(Debug, Clone, PartialEq)]
pub struct Table<T> {
    pub items: Vec<T>,
    pub list: ListState,
}

impl<T> Default for Table<T> {
    fn default() -> Self {
        Table {
            items: Vec::new(),
            list: ListState::default(),
        }
    }
}

impl<T: Row + PartialEq> Table<T> {
    /// Replace the items, keeping the selection on the same item. Returns false when nothing changed.
    pub fn replace(&mut self, items: Vec<T>, height: usize) -> bool {
        if items == self.items {
            return false;
        }
        let keep = self.list.selected_item().map(|i| self.items.swap_remove(i));
        self.list.set_keys(items.iter().map(Row::key).collect());
        self.items = items;
        self.sort_view();
        if let Some(old) = keep
            && let Some(pos) = self
                .list
                .view
                .iter()
                .position(|&i| self.items[i as usize].same_as(&old))
        {
            self.list.selected = pos;
        }
        self.list.clamp();
        self.list.scroll_into_view(height);
        true
    }

    pub fn selected(&self) -> Option<&T> {
        self.list.selected_item().and_then(|i| self.items.get(i))
    }

    /// Order the filtered view by the sort column (and by group first when grouped). Stable, so
    /// equal keys keep the source's order.
    fn sort_view(&mut self) {
        let l = &mut self.list;
        if l.sort.is_none() && !l.grouped {
            l.view.sort_unstable();
            return;
        }
        let items = &self.items;
        let mut keyed: Vec<(Option<&str>, Option<rows::SortKey>, u32)> = l
            .view
            .iter()
            .map(|&i| {
                let it = &items[i as usize];
                (
                    l.grouped.then(|| it.group()),
                    l.sort.map(|(c, _)| it.sort_key(c)),
                    i,
                )
            })
            .collect();
        let desc = l.sort.is_some_and(|(_, d)| d);
        // Ties keep the source's order (the item index), whatever order the view had before.
        keyed.sort_by(|a, b| {
            a.0.cmp(&b.0)
                .then_with(|| {
                    let o = match (&a.1, &b.1) {
                        (Some(x), Some(y)) => x.compare(y),
                        _ => std::cmp::Ordering::Equal,
                    };
                    if desc { o.reverse() } else { o }
                })
                .then(a.2.cmp(&b.2))
        });
        l.view = keyed.into_iter().map(|(_, _, i)| i).collect();
    }

    /// Keep the selection on the same item after the view was rebuilt.
    fn reselect(&mut self, keep: Option<usize>) {
        if let Some(k) = keep
            && let Some(pos) = self.list.view.iter().position(|&i| i as usize == k)
        {
            self.list.selected = pos;
        }
        self.list.clamp();
    }
}

/// What `update` does to any table, whatever its row type.
pub trait TableOps {
    fn list(&self) -> &ListState;
    fn list_mut(&mut self) -> &mut ListState;
    fn set_filter(&mut self, filter: String);
    fn set_sort(&mut self, sort: Option<(usize, bool)>, grouped: bool);
    fn columns(&self) -> &'static [&'static str];
    fn len(&self) -> usize;
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// The selected row's link and whether acting on it touches production.
    fn selected_link(&self) -> Option<(&str, bool)>;
    /// The group (repo, project, kind) of an item, for grouped tables.
    fn group_of(&self, item: usize) -> &str;
}

impl<T: Row + PartialEq> TableOps for Table<T> {
    fn list(&self) -> &ListState {
        &self.list
    }
    fn list_mut(&mut self) -> &mut ListState {
        &mut self.list
    }
    fn set_filter(&mut self, filter: String) {
        let keep = self.list.selected_item();
        let narrowing = Query::new(&filter).narrows(&Query::new(&self.list.filter))
            && !self.list.filter.trim().is_empty();
        self.list.set_filter(filter);
        if !narrowing {
            self.sort_view();
        }
        self.reselect(keep);
    }
    fn set_sort(&mut self, sort: Option<(usize, bool)>, grouped: bool) {
        let keep = self.list.selected_item();
        self.list.sort = sort;
        self.list.grouped = grouped;
        self.sort_view();
        self.reselect(keep);
    }
    fn columns(&self) -> &'static [&'static str] {
        T::COLUMNS
    }
    fn len(&self) -> usize {
        self.items.len()
    }
    fn selected_link(&self) -> Option<(&str, bool)> {
        self.selected().map(|r| (r.url(), r.production()))
    }
    fn group_of(&self, item: usize) -> &str {
        self.items.get(item).map(Row::group).unwrap_or("")
    }
}
