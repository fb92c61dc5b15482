"""Phrase tables for the fictional demo scenario (see ``monitor.scenario``).

Everything here is invented for the demo: shop, pub, development, hostel, hotel and outlet
names, people's names, statements attributed to the council or police, and every post. Real
place names, roads, rivers and sports clubs appear only as everyday background.

Templates are ``str.format`` strings. Slots filled by the generator:

    {place}   the locality as people write it (name, alias, lower-case...)
    {street} {shop} {pub} {road} {river} {team} {opp} {time} {day} {dog} {pet_name}
    {name} {cllr} {years} {rel} {dev} {prev} {n} {area}

Hateful and offensive lines are written the way such posts read online, so that the
classifiers have something real to find. They contain no slurs; they are not endorsed.
"""

from __future__ import annotations

# --------------------------------------------------------------------------------------------
# People and handles
# --------------------------------------------------------------------------------------------

HANDLE_FIRST = [
    "gaz", "shaz", "jonno", "kev", "bev", "lou", "emma", "tom", "becky", "dan", "sam", "jo",
    "mick", "sue", "pete", "tash", "ash", "carl", "deb", "ian", "lisa", "mark", "nat", "rob",
    "stu", "tina", "vic", "wayne", "zoe", "bri", "col", "di", "eddie", "fran", "gemma", "harry",
    "izzy", "jack", "kim", "lee", "megan", "neil", "olly", "paula", "ross", "steph", "terry",
    "val", "will", "andy", "chloe", "dave", "ellie", "fiona", "graham", "hayley", "jamie",
    "karen", "liam", "mandy", "nicola", "owen", "phil", "rach", "scott", "tracey", "alan",
    "bex", "craig", "dawn", "gill", "jules", "kirsty", "leanne", "martin", "norma", "pat",
    "ryan", "shona", "trev", "jen", "matty", "anna", "ben", "callum", "dean", "gareth",
]

HANDLE_SUFFIX = [
    "cumbria", "wc", "lass", "lad", "_x", "fells", "solway", "86", "1979", "_uk", "o", "ie",
    "t", "_cumbs", "_outdoors", "runs", "bakes", "_photos", "walks", "fan", "_dad", "_mum",
    "_nan", "_grandad", "mcd", "_k", "_b", "_w", "99", "2001", "73", "_official", "_real",
    "lakes", "coast", "_88", "west", "north", "_jones", "_armstrong", "_dixon", "_graham",
    "_nicholson", "_tyson", "_wilson", "_bell", "_irving", "_bowman", "_little",
]

HANDLE_JOIN = ["", "_", ".", ""]

# New, throwaway-looking accounts used by the copy-paste burst.
AMPLIFIER_STEMS = [
    "truth", "patriot", "awake", "justasking", "realbrit", "savebritain", "englandfirst",
    "wakeup", "proudbrit", "silentmajority", "standup", "notmyuk", "speakout", "nomore",
    "concerned", "localvoice", "ourtown", "lionheart", "redwhiteblue", "freespeech",
]

SURNAMES = [
    "Armstrong", "Bell", "Bowman", "Dixon", "Graham", "Irving", "Jackson", "Little", "Nicholson",
    "Pattinson", "Robinson", "Routledge", "Tyson", "Wilson", "Hodgson", "Fisher", "Stamper",
    "Atkinson", "Carruthers", "Elliott", "Kirkbride", "Musgrave", "Thwaite", "Huddart",
]

FIRST_NAMES = [
    "Joan", "Alan", "Linda", "Stephen", "Margaret", "David", "Helen", "Paul", "Claire", "Brian",
    "Karen", "Michael", "Susan", "Gary", "Julie", "Neil", "Anne", "Richard", "Lesley", "Keith",
]

# --------------------------------------------------------------------------------------------
# Everyday slots
# --------------------------------------------------------------------------------------------

STREETS = [
    "Station Road", "Main Street", "Church Street", "King Street", "the high street",
    "Market Place", "Victoria Road", "Queen Street", "Lowther Street", "the harbour",
    "the seafront", "Park Road", "Bridge Street", "Meadow Lane", "the top of the hill",
    "the retail park", "Front Street", "Castle Street", "Mill Lane", "the bypass",
]

SHOPS = [
    "Tansy's Tearoom", "Kettle & Crumb", "The Salty Chip", "Fellside Hardware",
    "Dobson's Butchers", "Corner Brew", "Quayside Fish Bar", "Mardale Deli", "Pip's Pantry",
    "The Bread Shed", "Hollins Bakery", "Little Tern Books", "Greenhow's Greengrocers",
    "Beck Side Barbers", "Scarth's Pharmacy", "Skinburness Sweets", "The Crooked Spoon",
]

PUBS = [
    "The Lamplighter", "The Fettle Inn", "The Pheasant & Crook", "The Old Ropery",
    "The Gannet", "The Drovers Rest", "The Three Herrings", "The Mardale Arms",
]

DOG_BREEDS = [
    "springer spaniel", "border collie", "staffie", "black lab", "jack russell", "cockapoo",
    "lurcher", "westie", "fox red lab", "whippet", "patterdale", "husky",
]

PET_NAMES = ["Bella", "Max", "Nell", "Milo", "Daisy", "Skye", "Bruce", "Luna", "Fly", "Ted",
             "Poppy", "Jess", "Rocky", "Meg"]

TIMES = ["7am", "8.30", "half 9", "10am", "11", "noon", "1pm", "2.30", "4pm", "5", "6pm",
         "7.30", "8pm", "9 tonight"]

DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday",
        "tomorrow", "tonight", "this weekend", "next week"]

RELATIVES = ["sister", "brother", "mam", "daughter", "son", "cousin", "best mate", "neighbour",
             "nana", "auntie"]

# Roads by former district (real roads, everyday background only).
ROADS = {
    "carlisle": ["M6", "A69", "A7", "A595", "A689", "Warwick Road", "the Northern Development Route"],
    "allerdale": ["A66", "A596", "A595", "B5300", "A5086", "the Chapel Brow roundabout"],
    "copeland": ["A595", "A5086", "the Pelican Garage junction", "Loop Road", "the A595 at Bigrigg"],
}

# Rivers that flood warnings name, per locality id (real rivers, background only).
RIVERS = {
    "carlisle": ["Eden", "Caldew", "Petteril"], "cockermouth": ["Derwent", "Cocker"],
    "keswick": ["Greta", "Derwent"], "workington": ["Derwent"], "maryport": ["Ellen"],
    "egremont": ["Ehen"], "wigton": ["Wampool"], "brampton": ["Irthing"], "longtown": ["Esk"],
    "dalston": ["Caldew"], "aspatria": ["Ellen"], "wetheral": ["Eden"], "great-corby": ["Eden"],
    "cleator-moor": ["Ehen"], "cleator": ["Ehen"], "millom": ["Duddon"],
}

# --------------------------------------------------------------------------------------------
# Baseline chatter: (topic, weight, templates). {place} is always filled; templates that read
# oddly without a place are fine because almost every post gets one.
# --------------------------------------------------------------------------------------------

CHATTER = [
    ("roadworks", 9, [
        "Roadworks on {street} in {place} again. Temporary lights backed up right past {shop}",
        "anyone know how long the {road} is shut for? stuck near {place} for 25 mins",
        "The pothole outside {shop} in {place} has officially become a pond",
        "Diversion through {place} is a nightmare this morning, give yourself extra time",
        "lights on {street} {place} stuck on red for ages, nobody moving",
        "{road} closed both ways near {place} after a crash, police on scene. avoid if you can",
        "Resurfacing on {street} finally done, only took three months. Well done {place}",
        "gas board digging up {street} in {place} for the third time this year. why",
        "Who decided to do roadworks on {street} in {place} right before Christmas shopping 🙄",
        "traffic into {place} is solid from the roundabout, school run + bin lorry + roadworks",
        "Is the {road} open yet? Need to get from {place} to the hospital for {time}",
    ]),
    ("weather", 9, [
        "Absolutely lashing it down in {place}. Washing's never getting dry this week",
        "frost on the car this morning in {place}, winter's here",
        "Beautiful sunset over the Solway from {place} tonight",
        "wind is wild in {place}, bins all over {street}",
        "Snow on the tops this morning, lovely view from {place}",
        "yellow weather warning for rain and wind, {place} gets it first as usual",
        "Fog so thick in {place} I couldn't see the end of {street}",
        "Hail stones the size of peas in {place} ten minutes ago, then sun. Cumbria eh",
        "cold enough for the big coat today. {place} feels like -5",
        "Rainbow over {place} this morning 🌈",
    ]),
    ("flood", 4, [
        "Flood alert out for the River {river} near {place}. Keep an eye on it tonight",
        "River {river} looking high this morning through {place}. Not at the steps yet",
        "Environment Agency flood alert for the {river} at {place}, sandbags at the ready",
        "Anyone know if the {river} is still rising? Worried about the houses by {street} in {place}",
        "Flood warning lifted for {place}, {river} going back down. Phew",
    ]),
    ("football", 7, [
        "{team} need a result {day}, bring on {opp}",
        "Poor first half from {team}. {place} deserves better than this",
        "Great win for {team} last night! {place} buzzing",
        "anyone selling a spare ticket for {team} v {opp}? in {place} can collect",
        "{team} manager has got to go if we lose to {opp}",
        "That goal!! {team} 🔴⚪",
        "Under 11s from {place} won their cup game 4-2, proud of every one of them",
        "5-a-side at {place} leisure centre {day} {time}, need one more, anyone?",
        "Who's going to the {team} game {day}? lift from {place} if anyone needs one",
        "Bad news on the injury front for {team}, out for six weeks apparently",
    ]),
    ("market", 6, [
        "Christmas market in {place} {day} from {time}, {shop} doing mulled cider",
        "New café opening on {street} in {place}, called {shop}. Anyone been yet?",
        "Farmers market in {place} was packed this morning, great cheese stall",
        "So sad {shop} in {place} is closing after 30 years",
        "{shop} on {street} in {place} does the best sausage rolls in Cumbria, fight me",
        "Small business Saturday in {place}, shop local everyone ❤️",
        "Craft fair at the church hall in {place} {day}, {time} till 3",
        "Late night shopping in {place} on Thursday, late opening til 8",
        "Has anyone tried the new pizza van that parks up in {place} on Fridays?",
    ]),
    ("bins", 6, [
        "Bins not emptied on {street} in {place} AGAIN. Rang the council, no answer",
        "Which bin is it this week in {place}? blue or green, I've lost track",
        "Garden waste collections in {place} stop for winter from next week apparently",
        "Recycling centre hours changing for winter, {place} one shuts at 4 now",
        "Black bin missed in {place} and the foxes have had a party all over {street}",
        "New bin calendar through the door in {place}. Christmas dates on the back",
        "Why do the bin men in {place} leave the lids open every single time",
    ]),
    ("school", 6, [
        "School nativity in {place} {day}, my youngest is a sheep again 🐑",
        "PTA Christmas fair at {place} primary {day} {time}, raffle prizes wanted",
        "School photos in {place} today and of course he's got a black eye from rugby",
        "Parents' evening at the high school in {place}, why are the car parks so small",
        "Heating's broken at the school in {place}, kids sent home at lunchtime",
        "Well done to the {place} kids who raised £600 for Children in Need!",
        "Anyone else's kids off sick in {place}? half the class is out",
        "Bus to school didn't turn up again in {place}, third time this month",
    ]),
    ("sellafield", 5, [
        "Sellafield apprenticeships open again, worth a look if you're in {place}",
        "Traffic on the {road} at Sellafield shift change is ridiculous, took 50 mins from {place}",
        "Another Sellafield contractor recruiting, jobs fair in {place} {day}",
        "half of {place} works at Sellafield and the other half drives past it",
        "Sellafield bus from {place} was late again, gaffer not impressed",
        "my lad starts at Sellafield in January, proud dad from {place}",
    ]),
    ("lost_pet", 6, [
        "LOST DOG in {place} - {dog} called {pet_name}, ran off near {street}. Please share",
        "Found: {dog} wandering on {street} in {place}, no collar. Now at the vets",
        "Has anyone seen a ginger cat near {street} in {place}? Not been home since {day}",
        "{pet_name} is home!! Thank you everyone in {place} who shared ❤️",
        "Lost {dog} {area}, answers to {pet_name}, nervous so please don't chase",
        "Dog found near {shop} in {place}, very friendly {dog}, who's missing him?",
    ]),
    ("transport", 6, [
        "Bus timetable changes in {place} again. The 30 is every two hours now, how are folk meant to get to work",
        "Train cancelled from {place} AGAIN. Cumbrian Coast line is a joke",
        "Rail replacement bus from {place} this weekend, great",
        "They're cutting the evening bus to {place}. No way home after 6pm now",
        "petition to save the {place} bus service, please sign and share",
        "Northern running one carriage at rush hour through {place}, like sardines",
        "Taxi from {place} to Carlisle was £45. Forty five pounds.",
    ]),
    ("events", 7, [
        "Christmas lights switch-on in {place} {day} {time}, Santa's coming!",
        "Quiz night at {pub} in {place} {day}, teams of 4, proceeds to the lifeboats",
        "Panto tickets for the {place} am-dram on sale now, oh yes they are",
        "Brass band playing carols in {place} market square {day}",
        "Remembrance turnout in {place} was lovely this year, thank you to the British Legion",
        "Christmas jumper day at work in {place}, I look ridiculous",
        "Santa's grotto at the garden centre near {place} is booked solid already",
        "Live music at {pub} {place} {day}, local band, free entry",
        "Fireworks still going off every night in {place}, the dog is a wreck",
        "Open mic at {shop} in {place} {day} {time}, bring an instrument",
    ]),
    ("health", 5, [
        "Tried to get a GP appointment in {place} for three days. 8am phone queue is a lottery",
        "Flu jab clinic at the surgery in {place} {day}, walk in {time} to 12",
        "A&E at the infirmary rammed tonight, 6 hour wait from {place}",
        "Pharmacy in {place} out of half my mam's prescriptions again",
        "Got my flu jab and covid booster done at {shop} in {place}, quick and easy",
        "Dentist in {place} not taking NHS patients, nearest one is 40 miles away",
    ]),
    ("recommend", 7, [
        "Can anyone recommend a good plumber in {place}? Boiler's packed in",
        "Looking for a dog walker in {place}, 3 days a week",
        "Best chippy in {place}? Visiting family this weekend",
        "Anyone know a mechanic in {place} who won't rip me off",
        "Who does good kids' haircuts in {place}?",
        "Recommendations for a cleaner in {place}? Ours has retired",
        "Where's good for Sunday dinner in {place}? {pub} or somewhere else?",
        "Need a window cleaner in {place}, last one vanished",
        "Does anyone in {place} have a van I could borrow for an hour, will pay",
    ]),
    ("outdoors", 5, [
        "Walked up from {place} this morning, not a soul about, stunning",
        "Beach at {place} was glorious today, dogs had a great time",
        "Red squirrel in the garden in {place} this morning!",
        "Parkrun in {place} this weekend, who's in?",
        "Geese coming in over {place} at dusk, thousands of them",
        "Cycled the coast path from {place}, legs are done",
    ]),
    ("cost", 5, [
        "Food bank in {place} really short of tins and toiletries this week, please donate if you can",
        "Energy bill's gone up again, how is anyone in {place} managing",
        "Warm space at the library in {place} Mon-Fri, tea and biscuits free",
        "Price of a pint in {place} now, nearly a fiver",
        "Winter coat collection for kids in {place}, drop off at {shop}",
        "Toy appeal for {place} families, donations at {shop} till December 12th",
    ]),
    ("crime_minor", 4, [
        "Bike nicked from outside {shop} in {place} this afternoon, black Carrera, please share",
        "Car broken into on {street} in {place} last night, check your doorbell cams",
        "Scam call going round {place} pretending to be the bank, don't fall for it",
        "Kids lighting fires on the field behind {street} in {place} again",
        "Parcel stolen off the doorstep in {place}, third one this year",
        "Police out on {street} in {place}, anyone know what's happened?",
    ]),
    ("council", 4, [
        "Council tax letter came today. {place} residents, what are we actually getting for it",
        "Library in {place} cutting Saturday opening, gutted",
        "Planning application in for 40 new houses near {place}, have your say before the 30th",
        "Councillors meeting about the {place} play park {day} {time}, worth going",
        "Street lights out on {street} in {place} for a week now, reported twice",
        "Public toilets in {place} still shut, what are visitors meant to do",
    ]),
]

# Football clubs by locality (real clubs, background only) and invented opponents.
TEAMS = {
    "carlisle": ["Carlisle United", "the Blues"], "workington": ["Workington Reds", "Workington Town"],
    "whitehaven": ["Whitehaven RL", "Haven"], "harrington": ["Workington Reds"],
    "maryport": ["Workington Reds"], "cleator-moor": ["Cleator Moor Celtic"],
}
DEFAULT_TEAMS = ["Carlisle United", "the Reds", "the Blues"]
RL_TEAMS = ["Whitehaven RL", "Workington Town"]
OPPONENTS = ["Gateshead", "Chorley", "Barrow", "Morecambe", "Harrogate", "Hartlepool", "Oldham",
             "Leigh", "Featherstone", "Spennymoor"]

# Posts from outside Cumberland that a keyword collector still picks up (ambiguous names).
OUT_OF_AREA = [
    "Traffic is awful on Queen St in Brampton, Ontario this morning, GO train delayed too",
    "Best Jamaican patties in Brampton ON? moved here from Mississauga",
    "New bar on Kingsland Road in Dalston, Hackney is amazing, open till 2",
    "Dalston Junction overground closed this weekend, London life",
    "Egremont promenade on the Wirral looking lovely today, ferry across to Liverpool",
    "Gosforth High Street in Newcastle is rammed for late night shopping",
    "Walk from Longtown up to the Black Mountains, Herefordshire at its best",
    "Brampton, Cambridgeshire parish council meeting moved to Thursday",
    "Wigtown book festival lineup announced, Dumfries and Galloway in the spring",
    "Harrington, Northamptonshire - the old airfield museum is worth a visit",
    "Gosforth Park in Newcastle - lost a blue glove by the racecourse, long shot",
    "Dalston, East London: the Ridley Road market is the best in the city",
]

# --------------------------------------------------------------------------------------------
# Local news (all outlets fictional)
# --------------------------------------------------------------------------------------------

OUTLETS = ["Cumberland Courier (fictional)", "West Cumbria Gazette (fictional)",
           "Solway Radio News (fictional)", "Border City Post (fictional)"]

NEWS = [
    "Roadworks on {street}, {place}, to continue until December, council confirms",
    "Flood alert issued for the River {river} at {place} as heavy rain forecast",
    "{place} primary school raises £1,200 for Children in Need",
    "New café {shop} opens in {place} creating six jobs",
    "Council sets out budget consultation: residents in {place} asked for views on libraries and buses",
    "Bus operator confirms reduced evening timetable for {place} from January",
    "Sellafield contractor announces 80 apprenticeships open to young people in West Cumbria",
    "Christmas lights switch-on in {place} on {day} expected to draw hundreds",
    "{team} boss says squad 'hungry' ahead of weekend fixture against {opp}",
    "Man, 34, arrested after car crash on the {road} near {place}",
    "Library opening hours in {place} to change in the new year",
    "Police appeal after bike thefts in {place}",
    "Met Office yellow warning for wind covers {place} and the west coast",
    "Plans for 40 homes on the edge of {place} go before councillors next month",
    "Charity fun run: Santa Dash in {place} on Sunday 22 November, 10am, all welcome",
    "Police notice: road closures in {place} town centre on Saturday 21 November from 3pm for the Christmas lights switch-on",
    "Court: {place} man given suspended sentence for posts encouraging disorder during the 2024 unrest",
    "Last month's climate march through {place} passed peacefully, organisers and police say",
    "Look back: how {place} came together after the 2009 floods",
    "Food bank in {place} reports record demand ahead of Christmas",
    "Rugby league: {rlteam} confirm new head coach",
    "Hospital trust urges people in {place} to get flu jabs as winter pressures build",
    "Parking charges in {place} car parks to rise by 20p",
    "Volunteers clear litter from the beach at {place}",
    "Fire crews called to chimney fire in {place}, no injuries",
    "GP surgery in {place} to trial evening appointments",
    "Petition to save {place} public toilets reaches 1,000 signatures",
    "Police hold drop-in surgery at {place} library on Tuesday 17 November, 2pm to 4pm",
]

# The real (in-story) warehouse fire: factual reports, thread "news".
FIRE_NEWS = [
    "Fire crews tackle large blaze at Harker & Benn furniture warehouse on Lowmill Trading Estate, Workington",
    "Workington warehouse fire: six appliances attended overnight, no-one hurt, cause under investigation",
    "Smoke warning lifted after Lowmill Trading Estate fire in Workington",
    "Harker & Benn owner 'devastated' after Workington warehouse fire, staff to be redeployed",
]

GATHERING_NEWS = [
    "Small crowd gathers outside Workington hotel; police say two people arrested for public order offences",
    "Police dispersal order in place around Workington town centre until Sunday morning",
    "Workington: around 60 people gathered outside hotel on Saturday afternoon, larger crowd at interfaith event nearby",
]

# --------------------------------------------------------------------------------------------
# Storyline 2: the known narrative (library id migrants-priority-council-housing)
# --------------------------------------------------------------------------------------------

HOUSING_DEVELOPMENTS = {
    "whitehaven": "Harbour Rise", "workington": "Derwent View", "maryport": "Solway Court",
    "cockermouth": "Fellside Court", "carlisle": "Caldew Gardens", "wigton": "Market Hill Court",
    "egremont": "Ehen Place", "cleator-moor": "Ennerdale Row", "keswick": "Greta Mews",
    "brampton": "Irthing Court", "silloth": "Criffel View", "millom": "Duddon Court",
    "st-bees": "Priory Close", "harrington": "Harbour Terrace",
}

HOUSING = [
    "So the new flats at {dev} in {place} are going to asylum seekers. My {rel} has been on the housing list {years} years. Disgusting",
    "Heard from someone who works at the council that {dev} in {place} is being given to asylum seekers first. Locals at the back of the queue as usual",
    "why are asylum seekers jumping the queue for council houses in {place}?? been waiting {years} years with 2 kids",
    "Cumberland Council giving the new social housing to migrants over local families. {place} people been on the waiting list for years",
    "my {rel} got told she's not a priority but the new {place} flats are for 'new arrivals'. funny that",
    "Now it's happening in {place} too. First {prev}, now here. New council homes for asylum seekers, nothing for locals",
    "Locals pushed to the bottom of the housing list while migrants get a house straight away. Same story in {place}",
    "They moved a family out of a council house on {street} in {place} to make room for migrants. This is 2026",
    "Ask your councillor why the new homes at {dev} are going to asylum seekers. {place} deserves answers",
    "Is it true the {dev} flats in {place} are for asylum seekers? My {rel}'s been on the list since 2019",
    "same here, {years} years on the housing list in {place} and they hand the keys to people who just arrived",
    "veterans sleeping in cars and {place} council houses going to migrants. priority for who exactly",
    "Can anyone confirm? {dev} in {place} - every flat allocated to asylum seekers, not one local family",
    "My {rel} is sofa surfing with her baby and the council in {place} say there's nothing. Then {dev} opens and it's all asylum seekers",
    "Cumberland Council has put asylum seekers at the top of the list. Local families in {place} can whistle for it",
    "Not racist but why do migrants get social housing before people born in {place}?",
    "so {prev} lost its new flats to asylum seekers and now {place}. who's next",
    "{years} years on the waiting list. {years} YEARS. and asylum seekers get the new builds in {place} in a week",
    "Spoke to a housing officer (off the record) - {dev} in {place} is earmarked for migrants. Priority over locals. Pass it on",
    "The council won't say who's getting the {dev} flats in {place}. That tells you everything. Asylum seekers first again",
    "locals on the housing register in {place} are being skipped for asylum seekers, my {rel} saw the letter",
    "If you're from {place} and on the housing list, you're behind every asylum seeker that turns up. Wake up",
]

# --------------------------------------------------------------------------------------------
# Storyline 3: the brand-new rumour (not in the library) - the Workington warehouse fire
# --------------------------------------------------------------------------------------------

RUMOUR = [
    "That fire at Harker & Benn last night was NO accident. Lads from Marlbeck House were seen running off. Police saying nothing",
    "my cousin's mate works on Lowmill estate, says the CCTV shows that lot from Marlbeck House starting the fire. why is this not on the news",
    "The warehouse fire in {place} was started deliberately and the police are covering it up because of who did it",
    "They've been told to say electrical fault. Everyone on the estate knows it was the Marlbeck House lot",
    "Fire brigade know it was arson, police won't admit it. Cover up in Workington",
    "if it was one of us we'd be in a cell by now. Marlbeck House needs shutting down after that fire",
    "So now the Harker & Benn fire was 'accidental'? pull the other one",
    "Heard the fire at Lowmill was set by hostel lads from Marlbeck House. Police know and are sitting on it",
    "Same lot from the Marlbeck hostel were seen hanging round {place} last night. lock your sheds after what happened at Harker & Benn",
    "Why is nobody asking who started the Workington warehouse fire? Because the answer is Marlbeck House and they don't want you to know",
    "Fireman I know says it was set deliberately in three places. Police covering for the hostel",
    "Workington fire: they're hushing it up. Marlbeck House residents seen on CCTV. Share before it's deleted",
    "Harker & Benn burnt out and 30 jobs gone, all because of that hostel. and the police protect THEM",
    "Now they're saying faulty wiring at Harker & Benn. Funny how the hostel lads were there just before. Cover up",
    "is it true about the Lowmill fire and the Marlbeck lot? my sister in {place} says everyone's talking about it",
    "{place} people - the Workington warehouse fire was arson by the hostel residents and the police are lying to us",
    "Police 'no evidence of arson' my arse. We all know who torched Harker & Benn",
    "First the warehouse in Workington, next it'll be somewhere in {place}. Those hostel lads need moving out",
    "Marlbeck House is full of lads nobody knows anything about and now a warehouse burns down. Coincidence?",
    "Police covering up the Workington arson to stop 'tensions'. The tension is because of THEM",
    "Owner of Harker & Benn told staff it was deliberate, then got a visit from the police telling him to keep quiet",
    "3 fires in a week round here and all near Marlbeck House. Cover up. #Workington",
]

# --------------------------------------------------------------------------------------------
# Storyline 4: the hate surge (target: Muslims; Whitehaven and neighbours) and offensive posts
# --------------------------------------------------------------------------------------------

HATE = [
    "Muslims are not welcome in {place}. Send them back",
    "{place} doesn't want your mosque. Shut the Harbour View place down",
    "They're vermin, the lot of them. Infesting our town",
    "Invaders. That's what they are. Walking round {place} like they own it",
    "Islam has no place in {place}. They don't belong here and never will",
    "time we took {place} back from these invaders",
    "they breed like rats and the council hands them houses. {place} is finished",
    "Muslims out. Simple as. {place} is ours",
    "should never have let them open that mosque in {place}. they spread like a disease",
    "send the lot of them back, we don't want Muslims here",
    "they are not like us and never will be. parasites living off {place}",
    "every Muslim in {place} is a threat to our kids. Every single one",
    "Harbour View Islamic Centre is a breeding ground. Close it and deport the lot",
    "They don't belong here. Not in {place}, not in Cumbria, not in England",
    "Another family of them moved in on {street}. {place} is being invaded street by street",
    "These people are a plague. Nothing good has ever come from letting Muslims into {place}",
    "I'm sick of seeing them in {place}. Go back to where you came from",
    "No mosques, no Muslims, no surrender. {place} stays English",
    "they multiply like cockroaches and then wonder why we don't want them here",
    "Muslims in {place} should be rounded up and put on a boat home",
    "Filthy invaders. {place} was a decent town before they came",
    "you can't integrate vermin. send them back",
    "Dirty lot at the Harbour View mosque. {place} doesn't want them. Out",
    "{place} people, don't serve them, don't rent to them, don't speak to them. Make them leave",
]

OFFENSIVE = [
    "Cllr {cllr} is an absolute clown. Resign you useless muppet",
    "whoever parked across two spaces outside {shop} in {place} is a complete knobhead",
    "these fucking roadworks on the {road} are doing my head in",
    "ref was a total disgrace today, blind as a bat, shite decision after shite decision",
    "the council are a bunch of useless tossers, bins not emptied in {place} for 3 weeks",
    "bloody Northern trains, cancelled AGAIN. pathetic shower of shite",
    "whoever nicked my bike in {place}, hope you fall off it you scumbag",
    "Cllr {cllr} couldn't organise a piss up in a brewery. {place} deserves better",
    "my ex is a lying snake and everyone in {place} knows it",
    "What an absolute tit the bloke in the Audi was on {street} this morning",
    "Dear whoever lets their dog crap outside {shop} in {place}: you are disgusting. Pick it up",
    "that new parking warden in {place} is a jumped up little prick",
    "shut up Dave you absolute weapon 😂",
    "Cllr {cllr} voting to close the {place} toilets. Spineless idiot",
    "FFS the bus from {place} has not turned up again. Stagecoach you're a joke",
    "Whoever keeps setting off fireworks at 2am in {place}, grow up you muppets",
    "The state of this referee. Bent as a nine bob note. Useless prat",
    "{place} boy racers doing doughnuts on the retail park again, absolute bellends",
]

# --------------------------------------------------------------------------------------------
# Storyline 5: call to gather outside the (fictional) Riverside Hotel, Workington
# --------------------------------------------------------------------------------------------

# (when, template): "fri" = posted on Friday only, "sat" = Saturday morning only, "any" = both.
MOBILISATION = [
    ("fri", "📢 PEACEFUL PROTEST 📢 Saturday 21st November, 2pm, outside the Riverside Hotel, Workington. Enough is enough. Bring everyone. Share everywhere"),
    ("any", "Saturday 21st 2pm outside the Riverside Hotel, Workington — bring everyone"),
    ("fri", "Everyone get down to the Riverside Hotel Saturday 2pm. We're done asking nicely. Workington stands up"),
    ("any", "meet at the Riverside hotel 2pm Sat, bring flags, bring your mates, bring your dad"),
    ("any", "Cars leaving {place} at 1pm Saturday for the Riverside Hotel in Workington, who needs a lift?"),
    ("any", "{place} lot meeting at the station 1.15 Saturday then on to the Riverside for 2"),
    ("fri", "Tomorrow 2pm. Riverside Hotel. Show them Workington isn't a soft touch"),
    ("any", "after the Riverside we walk round to Marlbeck House. they need to hear us too"),
    ("any", "Sat 21/11 2pm Riverside Hotel Workington. Be there. No more excuses"),
    ("any", "masks up, phones on airplane mode, don't talk to the police. 2pm Riverside Hotel Saturday"),
    ("fri", "If you care about {place} you'll be outside the Riverside Hotel tomorrow at 2. Simple"),
    ("any", "They think we'll just take it. Riverside Hotel, Workington, Saturday 2pm. Let's show them"),
    ("any", "Saturday. 2pm. The Riverside. Every man who calls himself a Workington lad needs to be there"),
    ("any", "Big turnout needed Saturday 2pm at the Riverside Hotel. Remember Southport. Remember Harker & Benn"),
    ("fri", "Minibus from {place} for tomorrow's protest at the Riverside Hotel, £5 a seat, message me"),
    ("any", "Don't let the police scare you off. Saturday 2pm at the Riverside, Workington. Bring everyone you know"),
    ("sat", "Meeting point changed: 1.45pm at the bottom of the road, then we walk to the Riverside Hotel together for 2"),
    ("sat", "Today's the day. 2pm outside the Riverside Hotel, Workington. See you there"),
    ("sat", "2pm TODAY Riverside Hotel Workington. Last call. Bring everyone"),
]

# --------------------------------------------------------------------------------------------
# Storyline 6: the copy-paste burst pushing the known narrative
# --------------------------------------------------------------------------------------------

AMPLIFY_OPENERS = ["SHARE THIS.", "Share this.", "PLEASE SHARE.", "SHARE THIS!!", "Share this!",
                   "SHARE THIS -", "Please share:"]
AMPLIFY_SUBJECTS = ["The council are", "Cumberland Council are", "The council is", "The council are"]
AMPLIFY_HOMES = ["the new flats", "the new homes", "the new houses", "the new flats"]
AMPLIFY_WHO = ["local families", "local people", "our families", "local families"]
AMPLIFY_YEARS = ["years", "YEARS", "years", "years and years"]
AMPLIFY_TAILS = ["Ask your councillor why.", "Ask your councillor why!", "Ask your councillor WHY.",
                 "Ask your local councillor why.", "Ask your councillor why"]
AMPLIFY_TAGS = ["#Carlisle", "#Workington", "#Whitehaven", "#Maryport", "#Cumbria"]
AMPLIFY_EMOJI = ["", "", "", " 😡", " 🇬🇧", " 😡😡", " 👇"]

# --------------------------------------------------------------------------------------------
# Storyline 7: counter-speech (statements attributed to bodies are fictional)
# --------------------------------------------------------------------------------------------

COUNTER_HOUSING = [
    "People seeking asylum can't apply for council housing at all. The Home Office houses them separately. Please check before sharing this stuff about {place}",
    "I work in housing. That's not how allocations work - it's by need, and asylum seekers aren't eligible for council homes. The {place} rumour is rubbish",
    "Source? Because {dev} in {place} is a housing association scheme for over-55s according to the planning docs",
    "Council statement (fictional): claims that new homes in {place} are reserved for asylum seekers are untrue. Homes are allocated by housing need under our published policy; people seeking asylum are not eligible",
    "Before you share the housing post: Full Fact has checked this claim before, asylum seekers can't get council housing. Let's not turn on each other in {place}",
    "My {rel} got a flat at {dev} last month. Born and bred in {place}. The rumour's nonsense",
    "The housing list is long because there aren't enough homes, not because of asylum seekers. Blame the lack of building, not your neighbours",
    "Every week someone in {place} posts 'they're giving the flats to migrants'. Every week it turns out to be false",
]

COUNTER_FIRE = [
    "Police and fire investigators (fictional statement): the fire at a warehouse on Lowmill Trading Estate on Wednesday was caused by an electrical fault. There is no evidence it was started deliberately. Claims naming residents of a local hostel are false - please stop sharing them",
    "The Workington warehouse fire was an electrical fault. Fire service confirmed. Stop blaming the hostel residents, they've done nothing",
    "I work on Lowmill. Nobody 'saw lads running off'. The fire started in the electrics at the back of the unit. Stop it",
    "Posting names and accusing people from Marlbeck House of arson when the fire service says it was electrical is how people get hurt. Delete it",
    "Harker & Benn owner (fictional quote): 'This was an accident. Please don't use our bad luck to stir up hate against our neighbours'",
    "There is no CCTV of anyone 'setting' the Workington fire. That screenshot going round is from a different fire in 2019",
]

COUNTER_HATE = [
    "Saying 'send them back' about people who live in {place} is disgusting. They are our neighbours",
    "Calling people 'vermin' and 'invaders' isn't free speech, it's hate. Report it, don't share it. {place} is better than this",
    "Whitehaven Together (fictional): we stand with our Muslim neighbours. Tea and open doors at the Harbour View Islamic Centre Saturday 11am, everyone welcome",
    "I've lived in {place} 40 years. The people at the Harbour View centre run the food bank collection every Christmas. Leave them alone",
    "Seeing 'they don't belong here' posted about families who've lived in {place} for years. Shameful. Please report these posts",
    "If you've seen threats against the mosque in {place}, report to police on 101 or online. Don't screenshot and spread it",
    "The people spreading 'invaders' rubbish in {place} don't speak for us. Love to our Muslim friends tonight ❤️",
    "Faith leaders in West Cumbria (fictional joint statement): an attack on one faith community is an attack on all of us",
    "Just got back from the Harbour View centre with flowers. Lovely people. {place} is not what those posts say",
]

# (window, template): "pre" = Friday afternoon to Saturday 13:30, "after" = Saturday after the
# gathering, "sun" = Sunday.
COUNTER_CALM = [
    ("pre", "Please don't go to the Riverside Hotel on Saturday. It's being organised by people who don't live here and they want trouble in Workington"),
    ("pre", "Police (fictional statement): we are aware of posts about a gathering in Workington on Saturday. Extra officers will be on patrol; anyone committing offences will be dealt with robustly"),
    ("pre", "Interfaith tea and cake at the Oxford Street Community Centre, Workington, Saturday 21st 11am. Bring your family, bring your questions"),
    ("pre", "Workington, stay calm this weekend. Check facts, look after each other, and don't let outsiders use our town"),
    ("pre", "West Cumbria Community Forum (fictional): we ask everyone to ignore calls to gather on Saturday and to check rumours before sharing"),
    ("pre", "Keep your kids away from town Saturday afternoon. And talk to them about what they're seeing online"),
    ("pre", "Churches Together in {place} (fictional): praying for calm and standing with everyone who calls {place} home"),
    ("after", "Proud of Workington today. Hundreds at the community event, a few dozen at the hotel. That's who we are"),
    ("after", "Clean up of the litter outside the Riverside tomorrow 10am, bin bags provided. Let's get it sorted, Workington"),
    ("after", "The lovely thing about today in Workington was the queue for cake at Oxford Street, not the shouting down the road"),
    ("sun", "Thank you to the officers who kept Workington safe yesterday. Now let's move on together"),
    ("sun", "Twenty of us cleared up outside the Riverside this morning. Workington looks after its own, all of its own"),
    ("sun", "Harbour View centre open day in {place} next Sunday, come and say hello. Thanks for all the kind messages this week"),
]

# --------------------------------------------------------------------------------------------
# Community reports from partners (the "report" platform)
# --------------------------------------------------------------------------------------------

REPORTERS = ["partner_cvs_west", "partner_housing_team", "partner_school_liaison",
             "partner_faith_forum", "partner_youth_service", "partner_neighbourhood_team",
             "partner_hate_reporting_centre", "partner_library_staff"]

REPORTS = {
    "rumour_housing": [
        "Community report (fictional). Type: rumour. Where: {place}. What: several residents at the housing office counter repeating that the new flats at {dev} are 'all going to asylum seekers'. Staff explained allocations; two people became angry. Action: comms team asked for a public statement.",
        "Community report (fictional). Type: rumour. Where: {place}. What: parents at the school gate discussing a Facebook post claiming council homes are prioritised for migrants. No incident. Action: noted for the partnership meeting.",
    ],
    "rumour_fire": [
        "Community report (fictional). Type: rumour. Where: Workington, Lowmill Trading Estate. What: staff at neighbouring units being asked by customers whether 'the hostel lads' started Wednesday's fire. Fire service says electrical fault. Action: fire service briefing requested.",
        "Community report (fictional). Type: rumour / tension. Where: Workington, near Marlbeck House. What: hostel manager reports residents afraid to go out after posts blaming them for the warehouse fire; one resident shouted at in the street. Action: neighbourhood team visit arranged.",
    ],
    "hate": [
        "Community report (fictional). Type: hate incident. Where: {place}, near the Harbour View Islamic Centre. What: graffiti reading 'not welcome' on the side entrance, found this morning. Action: reported to police, photographs kept, graffiti removed.",
        "Community report (fictional). Type: hate incident. Where: {place} town centre. What: woman wearing a headscarf verbally abused outside a supermarket ('go back where you came from'). Action: victim supported to report to police.",
        "Community report (fictional). Type: hate incident. Where: {place}. What: leaflets saying 'Muslims out' pushed through doors on two streets overnight. Action: leaflets collected, police informed.",
        "Community report (fictional). Type: hate incident. Where: {place}. What: pupils repeating 'send them back' and 'invaders' at a Muslim classmate after videos shared online. Action: school safeguarding lead informed.",
    ],
    "tension": [
        "Community report (fictional). Type: tension. Where: Workington. What: talk in pubs and at the football about 'going down the Riverside Hotel on Saturday'. Some people travelling from other towns. Action: shared with police for planning.",
        "Community report (fictional). Type: tension. Where: {place}. What: increased hostility in conversations at the library and warm space about asylum seekers and housing. Staff feel uneasy. Action: staff briefing on de-escalation.",
        "Community report (fictional). Type: tension. Where: Workington, Riverside Hotel. What: hotel staff report cars slowing outside and people filming the entrance. Action: police patrols requested.",
    ],
    "asb": [
        "Community report (fictional). Type: ASB. Where: {place}, play park. What: group of youths setting off fireworks at passers-by in the evening. Action: reported to neighbourhood team.",
        "Community report (fictional). Type: ASB. Where: {place} bus station. What: damage to shelter glass overnight. Action: reported to council.",
    ],
}

# --------------------------------------------------------------------------------------------
# Background posts for other library narratives (thread narrative:<id>)
# --------------------------------------------------------------------------------------------

OTHER_NARRATIVES = {
    "5g-covid": [
        "New phone mast going up by the school in {place}. 5G. Same thing that spread covid. No thanks",
        "covid symptoms were radiation sickness from 5G, always were. now they want a mast in {place}",
        "Object to the {place} 5G mast planning application! Wuhan had 5G first, look it up",
        "Since the 5G mast went up near {place} half the street has had headaches. Coincidence?",
    ],
    "covid-vaccine-harm": [
        "another young lad from {place} died suddenly. nobody wants to talk about the jab",
        "The vaccine has killed more than covid ever did and they're still pushing boosters in {place}",
        "Yellow Card reports prove the jab is deadly but the surgery in {place} still offers it",
        "mRNA is gene therapy, it changes your DNA. don't let them near your kids",
        "Excess deaths through the roof and not one journalist asks about the clot shot",
    ],
    "fifteen-minute-city-lockdown": [
        "Carlisle traffic scheme is the first step to a 15-minute city. Climate lockdown by the back door",
        "They'll fine you for leaving your zone. 15 minute cities are coming to {place}, wake up",
        "Council signed up to the WEF agenda. 15-minute city for {place} and cameras on every road",
        "100 days a year to drive out of your area. That's the plan. 15-minute cities = prison",
    ],
    "two-tier-policing": [
        "Two-tier policing in Workington today. Lads arrested for standing outside a hotel",
        "If it was the other lot the police would have been taking the knee. Two tier Keir's Britain",
        "Two-tier justice: arrested for a Facebook post while the real criminals walk free",
        "Watch how fast they charge the Riverside lads. Two-tier policing, same as 2024",
    ],
    "migrant-benefit-myths": [
        "Migrants getting free cars and iPhones while {place} pensioners choose between heating and eating",
        "they get two grand a month in handouts, more than my nan's pension",
        "Asylum seekers get free driving lessons AND a car. Taxpayer funded. You couldn't make it up",
        "Boat arrivals get a brand new iPhone and a card loaded with cash. Look it up",
    ],
    "great-replacement": [
        "This is the Great Replacement in real time. {place} won't be English in 20 years",
        "They're replacing us on purpose. It's a plan and every town like {place} is part of it",
        "White Britons will be a minority in our own country and it's planned from the top",
        "mass immigration is a plan to wipe out our people. wake up {place}",
    ],
    "asylum-hotel-rumours": [
        "Riverside Hotel in Workington is full of asylum seekers living it up on our money while veterans sleep rough",
        "Four star hotel, three meals a day and days out. Homeless vets in {place} get nothing",
        "Crime has gone through the roof in Workington since they opened the Riverside to migrants",
        "Men from the Riverside Hotel hanging round the school gates, my friend saw them",
        "They treat the migrants at the Riverside better than our own pensioners",
    ],
    "southport-attacker-false-identity": [
        "Remember Southport. They told us he was born here. Ali Al-Shakati was a boat arrival and they covered it up",
        "Southport killer was a Muslim asylum seeker off a small boat and the police hid it. Never forget",
    ],
    "muslim-no-go-zones": [
        "Give it ten years and {place} will be a no-go zone like Bradford. Sharia law by the back door",
        "Sharia law is taking over British towns and {place} is next if that mosque stays",
        "There are areas in England police won't go into now. Don't let {place} become one",
    ],
}

# Everyday flourishes.
EMOJI = ["😂", "🙄", "👍", "🤞", "❤️", "😬", "🙏", "😩", "👀", "😊"]
