#!/usr/bin/env python3
"""Generates models/baoan/items.toml: the 453-item Bao'an catalogue (300 legal, 153 natural).

The catalogue is data; this script only keeps it consistent (distinct names, code numbering,
canonical items first). Run it from the repository root and commit its output:
    python3 models/tools/gen_baoan_items.py > models/baoan/items.toml
"""

CAT = {"basic": "BAS", "license": "LIC", "penalty": "PEN", "judicial": "JUD",
       "supervision": "SUP", "honor": "HON", "other": "OTH"}
ALL4 = ["administrative_licensing", "public_resource_trading", "special_fund", "financial_loan"]

items = []


def add(kind, cat, zh, en, points, days=None, lists=(), restricts=(), per_unit=None):
    items.append(dict(kind=kind, category=cat, name_zh=zh, name_en=en, points=points,
                      effect_days=days, lists=list(lists), restricts=list(restricts),
                      per_unit=per_unit))


# ---------------------------------------------------------------- legal persons (300)
L = "legal"
# basic: 30
add(L, "basic", "企业设立登记", "Business registration", 0)
for zh, en in [("名称变更登记", "change of name"), ("法定代表人变更登记", "change of legal representative"),
               ("注册资本变更登记", "change of registered capital"), ("住所变更登记", "change of registered address"),
               ("经营范围变更登记", "change of business scope"), ("股东变更登记", "change of shareholders"),
               ("企业类型变更登记", "change of enterprise type"), ("分支机构设立登记", "branch office registration"),
               ("分支机构注销登记", "branch office deregistration"), ("企业注销登记", "deregistration"),
               ("股权出质登记", "equity pledge registration"), ("动产抵押登记", "chattel mortgage registration"),
               ("经营期限变更登记", "change of operating term"), ("高级管理人员备案", "senior managers filing"),
               ("章程修正案备案", "articles of association amendment filing"),
               ("清算组备案", "liquidation group filing"), ("税务登记", "tax registration"),
               ("社会保险登记", "social insurance registration"), ("住房公积金缴存登记", "housing fund registration"),
               ("统计登记", "statistical registration"), ("海关报关单位注册", "customs declarant registration"),
               ("对外贸易经营者备案", "foreign trade operator filing"), ("外汇登记", "foreign exchange registration"),
               ("社会组织成立登记", "social organisation registration"),
               ("事业单位法人登记", "public institution registration")]:
    add(L, "basic", zh, en[0].upper() + en[1:], 0)
for zh, en, p in [("年度报告按时公示", "Annual report published on time", 5),
                  ("即时信息按时公示", "Ad hoc information published on time", 2),
                  ("纳税信息按时申报", "Tax returns filed on time", 3),
                  ("社会保险按时足额缴纳", "Social insurance paid in full on time", 3)]:
    add(L, "basic", zh, en, p, 365)

# license: 60
add(L, "license", "行政许可或资质认定", "Licence or qualification granted", 5, 1825)
licences = [
    ("食品经营许可证", "Food operation permit"), ("食品生产许可证", "Food production permit"),
    ("药品经营许可证", "Drug distribution licence"), ("药品生产许可证", "Drug manufacturing licence"),
    ("医疗器械经营许可", "Medical device distribution licence"), ("医疗机构执业许可证", "Medical institution practising licence"),
    ("建筑业企业资质", "Construction enterprise qualification"), ("工程监理资质", "Construction supervision qualification"),
    ("工程勘察设计资质", "Survey and design qualification"), ("房地产开发企业资质", "Real estate developer qualification"),
    ("物业服务企业备案", "Property management enterprise filing"), ("安全生产许可证", "Work safety licence"),
    ("危险化学品经营许可证", "Hazardous chemicals trading licence"), ("烟花爆竹经营许可证", "Fireworks trading licence"),
    ("排污许可证", "Pollutant discharge permit"), ("取水许可证", "Water abstraction permit"),
    ("道路运输经营许可证", "Road transport operating licence"), ("网络预约出租汽车经营许可", "Ride-hailing operating licence"),
    ("人力资源服务许可证", "Human resources service licence"), ("劳务派遣经营许可证", "Labour dispatch licence"),
    ("出版物经营许可证", "Publications trading licence"), ("网络文化经营许可证", "Online culture operating licence"),
    ("娱乐经营许可证", "Entertainment venue licence"), ("旅行社业务经营许可证", "Travel agency licence"),
    ("互联网上网服务营业场所许可", "Internet café licence"), ("卫生许可证", "Hygiene licence"),
    ("公众聚集场所投入使用营业前消防安全检查合格", "Fire safety clearance for public venues"),
    ("特种设备生产许可证", "Special equipment manufacturing licence"), ("工业产品生产许可证", "Industrial product production licence"),
    ("计量器具型式批准", "Measuring instrument type approval"), ("检验检测机构资质认定", "Testing and inspection body accreditation"),
    ("增值电信业务经营许可证", "Value-added telecom licence"), ("广播电视节目制作经营许可证", "Radio and TV production licence"),
    ("民办学校办学许可证", "Private school operating licence"), ("职业技能培训机构办学许可", "Vocational training licence"),
    ("托育机构备案", "Childcare institution filing"), ("养老机构备案", "Elderly care institution filing"),
    ("燃气经营许可证", "Gas supply licence"), ("城市生活垃圾经营性清扫收运许可", "Municipal waste collection licence"),
    ("建筑垃圾处置核准", "Construction waste disposal approval"), ("户外广告设置许可", "Outdoor advertising permit"),
    ("临时占用道路许可", "Temporary road occupation permit"), ("建设工程规划许可证", "Construction planning permit"),
    ("建筑工程施工许可证", "Construction works permit"), ("商品房预售许可证", "Off-plan housing sale permit"),
    ("二类医疗器械备案", "Class II medical device filing"), ("化妆品生产许可证", "Cosmetics production licence"),
    ("兽药经营许可证", "Veterinary drug trading licence"), ("农药经营许可证", "Pesticide trading licence"),
    ("种子生产经营许可证", "Seed production licence"), ("保安服务许可证", "Security services licence"),
    ("典当经营许可证", "Pawnbroking licence"), ("融资担保业务经营许可证", "Financing guarantee licence"),
    ("小额贷款公司经营许可", "Microcredit company licence"), ("高新技术企业认定", "High-tech enterprise certification"),
    ("专精特新中小企业认定", "Specialised and innovative SME certification"),
    ("海关高级认证企业", "Customs advanced certified enterprise (AEO)"),
    ("质量管理体系认证", "Quality management system certification"),
    ("环境管理体系认证", "Environmental management system certification")]
for i, (zh, en) in enumerate(licences):
    add(L, "license", zh, en, [2, 3, 4, 5][i % 4], [1825, 1095, 1825, None][i % 4])

# penalty: 80 (generic general/serious, then 39 sectors x general/serious)
add(L, "penalty", "行政处罚（一般失信）", "Administrative penalty, general", -80, 365)
add(L, "penalty", "行政处罚（严重失信）", "Administrative penalty, serious", -200, 1095)
sectors = [
    ("生态环境", "environmental"), ("税务", "tax"), ("劳动保障", "labour"), ("市场监管", "market regulation"),
    ("安全生产", "work safety"), ("消防", "fire safety"), ("交通运输", "transport"), ("食品安全", "food safety"),
    ("药品监管", "drug regulation"), ("产品质量", "product quality"), ("城市管理", "urban management"),
    ("住房建设", "housing and construction"), ("规划和自然资源", "planning and land"), ("卫生健康", "health"),
    ("文化广电旅游", "culture and tourism"), ("教育", "education"), ("水务", "water affairs"),
    ("农业农村", "agriculture"), ("统计", "statistics"), ("海关", "customs"), ("价格", "pricing"),
    ("广告", "advertising"), ("知识产权", "intellectual property"), ("计量", "metrology"),
    ("特种设备", "special equipment"), ("医疗保障", "medical insurance"), ("民政", "civil affairs"),
    ("人防", "civil air defence"), ("气象", "meteorology"), ("烟草专卖", "tobacco monopoly"),
    ("公安治安", "public security"), ("网信", "cyberspace"), ("邮政快递", "postal and courier"),
    ("燃气管理", "gas supply"), ("建筑废弃物", "construction waste"), ("排水", "drainage"),
    ("噪声污染", "noise pollution"), ("危险废物", "hazardous waste"), ("财政", "public finance")]
for i, (zh, en) in enumerate(sectors):
    add(L, "penalty", f"{zh}行政处罚（一般）", f"Administrative penalty, {en}, general", -80 - 10 * (i % 5), 365)
    add(L, "penalty", f"{zh}行政处罚（严重）", f"Administrative penalty, {en}, serious", -200 - 20 * (i % 4), 1095)

# judicial: 20
add(L, "judicial", "失信被执行人", "Dishonest judgment debtor", -300, None, ["black"], ALL4)
for zh, en, p, d, lst, r in [
        ("被执行人（未履行生效裁判）", "Judgment debtor, judgment not performed", -120, 730, [], []),
        ("限制高消费", "Restricted from high consumption", -150, 730, [], ["financial_loan"]),
        ("终结本次执行程序", "Enforcement terminated for lack of assets", -150, 730, [], []),
        ("拒不执行判决裁定罪", "Convicted of refusing to perform a judgment", -400, 1825, ["black"], ALL4),
        ("单位行贿犯罪", "Convicted of corporate bribery", -400, 1825, ["black"], ALL4),
        ("单位串通投标犯罪", "Convicted of bid rigging", -400, 1825, ["black"], ["public_resource_trading"]),
        ("虚开增值税专用发票犯罪", "Convicted of false VAT invoicing", -400, 1825, ["black"], ALL4),
        ("重大劳动争议仲裁败诉未履行", "Lost labour arbitration award not performed", -100, 730, [], []),
        ("拖欠农民工工资诉讼败诉", "Lost migrant workers' wage arrears lawsuit", -150, 1095, [], []),
        ("合同纠纷败诉未履行", "Contract dispute judgment not performed", -100, 730, [], []),
        ("知识产权侵权判决", "Intellectual property infringement judgment", -120, 1095, [], []),
        ("环境公益诉讼败诉", "Environmental public-interest litigation lost", -150, 1095, [], []),
        ("消费者公益诉讼败诉", "Consumer public-interest litigation lost", -120, 1095, [], []),
        ("破产重整", "Bankruptcy reorganisation", -100, None, [], ["financial_loan"]),
        ("破产清算", "Bankruptcy liquidation", -200, None, [], ALL4),
        ("财产保全被申请人", "Subject of a property preservation order", -80, 365, [], []),
        ("司法拘留（单位负责人）", "Judicial detention of the responsible person", -120, 730, [], []),
        ("罚款决定（妨害民事诉讼）", "Fine for obstructing civil proceedings", -80, 365, [], []),
        ("仲裁裁决未履行", "Arbitral award not performed", -100, 730, [], [])]:
    add(L, "judicial", zh, en, p, d, lst, r)

# supervision: 40
add(L, "supervision", "安全生产黑名单", "Work safety blacklist", -300, 1095, ["black"], ALL4)
add(L, "supervision", "经营异常名录", "Abnormal operations list", -100, None)
for zh, en, p, d, lst, r in [
        ("严重违法失信企业名单", "Seriously illegal and dishonest enterprises list", -300, 1095, ["black"], ALL4),
        ("重大税收违法失信主体", "Major tax violation list", -300, 1095, ["black"], ALL4),
        ("拖欠农民工工资失信联合惩戒对象", "Migrant workers' wage arrears blacklist", -300, 1095, ["black"], ALL4),
        ("政府采购严重违法失信行为记录", "Government procurement serious violation record", -250, 1095, ["black"], ["public_resource_trading"]),
        ("食品安全严重违法生产经营者黑名单", "Food safety serious violators blacklist", -300, 1825, ["black"], ALL4),
        ("环境违法失信企业名单", "Environmental dishonesty list", -250, 1095, ["black"], ALL4),
        ("海关失信企业", "Customs dishonest enterprise", -250, 1095, ["black"], ["administrative_licensing", "financial_loan"]),
        ("建筑市场主体不良行为记录", "Construction market bad conduct record", -150, 730, [], ["public_resource_trading"]),
        ("招标投标违法行为记录", "Bidding violation record", -150, 1095, [], ["public_resource_trading"]),
        ("统计严重失信企业", "Statistical fraud enterprise", -200, 1095, ["black"], ["special_fund"]),
        ("电子商务领域失信主体", "E-commerce dishonesty list", -200, 1095, [], []),
        ("石油天然气行业严重违法失信主体", "Oil and gas sector serious violators", -250, 1095, ["black"], ALL4),
        ("电力行业严重违法失信主体", "Power sector serious violators", -250, 1095, ["black"], ALL4),
        ("涉金融严重失信人", "Serious financial dishonesty", -250, 1095, ["black"], ["financial_loan"]),
        ("社会组织严重违法失信名单", "Social organisations serious dishonesty list", -250, 1095, ["black"], ALL4),
        ("社会组织活动异常名录", "Social organisations abnormal activity list", -100, None, [], []),
        ("安全生产重点关注名单", "Work safety key attention list", -120, 365, [], []),
        ("环境监管重点关注名单", "Environmental key attention list", -100, 365, [], []),
        ("食品安全重点监管名单", "Food safety key supervision list", -100, 365, [], []),
        ("劳动保障重点监控名单", "Labour inspection key monitoring list", -100, 365, [], []),
        ("产品质量监督抽查不合格", "Product quality random inspection failed", -90, 365, [], []),
        ("食品安全监督抽检不合格", "Food safety random test failed", -90, 365, [], []),
        ("双随机抽查发现问题", "Random joint inspection found problems", -80, 365, [], []),
        ("消防监督检查不合格", "Fire safety inspection failed", -90, 365, [], []),
        ("特种设备监督检查不合格", "Special equipment inspection failed", -90, 365, [], []),
        ("环保督察限期整改", "Environmental inspection rectification order", -100, 365, [], []),
        ("安全生产限期整改", "Work safety rectification order", -100, 365, [], []),
        ("责令停产停业整顿", "Ordered to suspend production for rectification", -200, 730, [], ALL4),
        ("信用承诺未履行", "Credit commitment broken", -120, 730, [], []),
        ("行政约谈", "Administrative interview summons", -80, 365, [], []),
        ("监管警示函", "Regulatory warning letter", -80, 365, [], []),
        ("网格巡查安全隐患未整改", "Grid patrol hazard not rectified", -90, 365, [], []),
        ("违法建设未整改", "Illegal construction not rectified", -120, 730, [], []),
        ("欠缴税款公告", "Tax arrears announcement", -120, 365, [], ["special_fund"]),
        ("非正常户认定", "Declared an abnormal taxpayer", -150, None, [], ["special_fund", "financial_loan"]),
        ("拖欠工程款重点监管", "Construction payment arrears key supervision", -120, 730, [], []),
        ("医保定点违规暂停协议", "Medical insurance designated contract suspended", -150, 730, [], []),
        ("预付式消费风险警示", "Prepaid consumption risk warning", -80, 365, [], [])]:
    add(L, "supervision", zh, en, p, d, lst, r)

# honor: 40
add(L, "honor", "纳税信用A级纳税人", "A-grade taxpayer", 100, 365, ["red"])
for zh, en, p, d, lst in [
        ("守合同重信用企业", "Contract-abiding and trustworthy enterprise", 100, 730, ["red"]),
        ("海关高级认证企业（AEO）信用示范", "Customs AEO credit model", 100, 1095, ["red"]),
        ("劳动保障诚信示范单位", "Labour integrity model unit", 100, 730, ["red"]),
        ("安全生产标准化一级企业", "Work safety standardisation level 1", 100, 1095, ["red"]),
        ("环境信用评价绿牌企业", "Environmental credit green rating", 100, 365, ["red"]),
        ("诚信经营示范店", "Honest business model shop", 100, 730, ["red"]),
        ("市级诚信示范企业", "Municipal integrity model enterprise", 100, 730, ["red"]),
        ("区级诚信示范企业", "District integrity model enterprise", 100, 730, ["red"]),
        ("质量信用AAA级企业", "Quality credit AAA enterprise", 100, 1095, ["red"]),
        ("建筑市场诚信优良企业", "Construction market excellent integrity", 100, 730, ["red"]),
        ("食品安全信用A级", "Food safety credit grade A", 100, 365, ["red"]),
        ("社会组织评估5A等级", "Social organisation 5A rating", 100, 1825, ["red"]),
        ("和谐劳动关系企业", "Harmonious labour relations enterprise", 60, 1095, []),
        ("市长质量奖", "Mayor's quality award", 80, 1095, []),
        ("区长质量奖", "District quality award", 60, 1095, []),
        ("中国专利奖", "China patent award", 60, 1095, []),
        ("科学技术进步奖", "Science and technology progress award", 60, 1095, []),
        ("慈善捐赠表彰", "Charitable donation commendation", 40, 730, []),
        ("扶贫协作贡献表彰", "Poverty alleviation contribution commendation", 40, 730, []),
        ("抗疫贡献表彰", "Epidemic relief contribution commendation", 40, 730, []),
        ("就业先进单位", "Employment promotion model unit", 40, 730, []),
        ("节能减排先进单位", "Energy saving model unit", 40, 730, []),
        ("绿色工厂", "Green factory", 40, 1095, []),
        ("文明单位", "Civilised unit", 30, 1095, []),
        ("消费者满意单位", "Consumer satisfaction unit", 30, 730, []),
        ("知名品牌认定", "Recognised brand", 30, 1095, []),
        ("中华老字号", "China time-honoured brand", 30, None, []),
        ("企业社会责任报告发布", "Corporate social responsibility report", 20, 365, []),
        ("志愿服务先进单位", "Volunteer service model unit", 30, 730, []),
        ("见义勇为表彰（单位）", "Commendation for bravery, organisation", 40, 730, []),
        ("无偿献血促进奖（单位）", "Blood donation promotion award, organisation", 30, 730, []),
        ("拥军优属先进单位", "Military family support model unit", 30, 730, []),
        ("安全生产先进单位", "Work safety model unit", 40, 730, []),
        ("消防安全先进单位", "Fire safety model unit", 40, 730, []),
        ("守信激励对象（信用承诺履约）", "Commitment kept, trust incentive", 20, 365, []),
        ("纳税信用B级纳税人", "B-grade taxpayer", 10, 365, []),
        ("银行信用评级AAA", "Bank credit rating AAA", 50, 365, []),
        ("信用服务机构评级AA以上", "Credit agency rating AA or better", 30, 365, []),
        ("金融机构诚信客户", "Trustworthy bank customer", 20, 365, [])]:
    add(L, "honor", zh, en, p, d, lst)

# other: 30
add(L, "other", "水电气费欠缴", "Utility arrears (water, power, gas)", -20, 365)
for zh, en, p, d in [
        ("电信费用欠缴", "Telecom arrears", -20, 365), ("社会保险费欠缴", "Social insurance contributions arrears", -40, 365),
        ("住房公积金欠缴", "Housing fund contributions arrears", -40, 365), ("物业费欠缴", "Property management fee arrears", -15, 365),
        ("租金欠缴（公有物业）", "Public property rent arrears", -20, 365), ("排污费欠缴", "Pollutant discharge fee arrears", -30, 365),
        ("政府性基金欠缴", "Government fund levies arrears", -30, 365), ("垃圾处理费欠缴", "Waste disposal fee arrears", -15, 365),
        ("残疾人就业保障金欠缴", "Disabled employment security fund arrears", -20, 365),
        ("工会经费欠缴", "Trade union fee arrears", -10, 365), ("行业协会会费欠缴", "Trade association fee arrears", -10, 365),
        ("银行贷款逾期", "Bank loan overdue", -60, 730), ("融资租赁逾期", "Finance lease overdue", -50, 730),
        ("商业票据拒付", "Commercial bill dishonoured", -60, 730), ("债券违约", "Bond default", -80, 1095),
        ("供应链账款逾期", "Supply-chain payables overdue", -30, 365), ("信用报告异议成立", "Credit report objection upheld", 0, None),
        ("信用承诺书签署", "Credit commitment signed", 0, None), ("信用承诺履约", "Credit commitment kept", 10, 365),
        ("信用修复培训完成", "Credit repair training completed", 5, 365), ("媒体负面报道核实", "Verified negative media report", -30, 365),
        ("消费投诉集中", "Concentrated consumer complaints", -30, 365), ("12345热线投诉属实", "12345 hotline complaint upheld", -20, 365),
        ("网格事件处置不配合", "Non-cooperation with grid incident handling", -20, 365),
        ("公共资源交易履约评价差", "Poor public contract performance rating", -50, 730),
        ("政府采购履约评价差", "Poor government procurement performance", -50, 730),
        ("信用评级机构负面评级", "Negative rating by a credit agency", -40, 365),
        ("第三方信用报告风险提示", "Third-party credit report risk alert", -20, 365),
        ("自愿注销公示异议", "Objection to voluntary deregistration", -10, 365)]:
    add(L, "other", zh, en, p, d)

# ---------------------------------------------------------------- natural persons (153)
N = "natural"
# basic: 15
add(N, "basic", "户籍登记", "Resident registration", 0)
for zh, en, p, d in [("居住证登记", "Residence permit registration", 0, None), ("婚姻登记", "Marriage registration", 0, None),
                     ("学历信息", "Educational record", 0, None), ("就业登记", "Employment registration", 0, None),
                     ("社会保险参保登记", "Social insurance enrolment", 0, None), ("个体工商户经营者登记", "Sole proprietor registration", 0, None),
                     ("企业法定代表人任职", "Serving as a legal representative", 0, None), ("出入境证件登记", "Travel document registration", 0, None),
                     ("机动车驾驶证登记", "Driving licence registration", 0, None), ("不动产登记", "Real estate registration", 0, None),
                     ("个人所得税按时申报", "Individual income tax filed on time", 3, 365),
                     ("社会保险按时缴纳（个人）", "Personal social insurance paid on time", 3, 365),
                     ("住房公积金按时缴存（个人）", "Personal housing fund paid on time", 2, 365),
                     ("个人信用承诺签署", "Personal credit commitment signed", 0, None)]:
    add(N, "basic", zh, en, p, d)

# license: 25
for zh, en, p, d in [("执业医师资格", "Licensed physician", 5, None), ("执业护士资格", "Licensed nurse", 5, 1825),
                     ("执业药师资格", "Licensed pharmacist", 5, None), ("律师执业证", "Lawyer practising licence", 5, 1825),
                     ("注册会计师", "Certified public accountant", 5, None), ("教师资格", "Teacher qualification", 5, None),
                     ("注册建筑师", "Registered architect", 5, 1825), ("注册建造师", "Registered constructor", 5, 1825),
                     ("注册安全工程师", "Registered safety engineer", 5, 1825), ("注册消防工程师", "Registered fire engineer", 5, 1825),
                     ("注册税务师", "Certified tax agent", 5, None), ("法律职业资格", "Legal professional qualification", 5, None),
                     ("导游证", "Tour guide certificate", 3, 1095), ("特种作业操作证", "Special operations certificate", 3, 2190),
                     ("特种设备作业人员证", "Special equipment operator certificate", 3, 1460),
                     ("职业技能等级证书", "Vocational skill level certificate", 3, None),
                     ("道路运输从业资格证", "Road transport practitioner certificate", 3, 2190),
                     ("网约车驾驶员证", "Ride-hailing driver permit", 2, 2190), ("食品从业人员健康证明", "Food handler health certificate", 2, 365),
                     ("保安员证", "Security guard certificate", 2, None), ("房地产经纪人资格", "Real estate agent qualification", 3, None),
                     ("证券从业资格", "Securities practitioner qualification", 3, None),
                     ("社会工作者职业资格", "Social worker qualification", 3, None),
                     ("心理咨询师资格", "Psychological counsellor qualification", 3, None),
                     ("育婴员职业资格", "Childcare worker qualification", 2, None)]:
    add(N, "license", zh, en, p, d)

# penalty: 40
add(N, "penalty", "行政处罚", "Administrative penalty", -80, 365)
for zh, en, p, d in [("交通违法（记满12分）", "Traffic offence, 12 points reached", -80, 365),
                     ("醉酒驾驶", "Drunk driving", -200, 1825), ("饮酒驾驶", "Driving after drinking", -120, 1095),
                     ("无证驾驶", "Driving without a licence", -100, 365), ("肇事逃逸", "Hit and run", -250, 1825),
                     ("治安拘留", "Public order detention", -150, 1095), ("治安罚款", "Public order fine", -80, 365),
                     ("扰乱公共秩序", "Disturbing public order", -100, 365), ("寻衅滋事", "Picking quarrels and provoking trouble", -120, 730),
                     ("赌博", "Gambling", -100, 730), ("吸毒", "Drug use", -150, 1095), ("卖淫嫖娼", "Prostitution offence", -120, 730),
                     ("殴打他人", "Assault", -120, 730), ("故意损毁财物", "Wilful damage to property", -90, 365),
                     ("盗窃（治安处罚）", "Theft, public order penalty", -120, 730), ("诈骗（治安处罚）", "Fraud, public order penalty", -150, 1095),
                     ("骗取社会保险待遇", "Social insurance benefit fraud", -200, 1095),
                     ("骗取医保基金", "Medical insurance fund fraud", -200, 1095), ("骗取住房保障", "Public housing eligibility fraud", -200, 1095),
                     ("偷逃税款（个人）", "Personal tax evasion", -200, 1095), ("考试作弊", "Cheating in a national examination", -150, 1095),
                     ("学术不端", "Academic misconduct", -150, 1095), ("违规执业（医疗）", "Medical malpractice penalty", -150, 1095),
                     ("违规执业（律师）", "Lawyer misconduct penalty", -150, 1095), ("违法建设（个人）", "Illegal construction by an individual", -100, 730),
                     ("违规饲养犬只", "Dog keeping violation", -80, 365), ("占道经营", "Unlicensed street vending", -80, 365),
                     ("高空抛物", "Throwing objects from height", -120, 730), ("违规燃放烟花爆竹", "Illegal fireworks", -80, 365),
                     ("破坏消防设施", "Damaging fire equipment", -100, 730), ("电动车违规充电", "Unsafe e-bike charging", -80, 365),
                     ("乘坐公共交通逃票", "Fare evasion on public transport", -80, 365), ("霸座扰乱乘车秩序", "Seat hogging on trains", -80, 365),
                     ("传播谣言", "Spreading rumours", -100, 730), ("非法行医", "Practising medicine illegally", -200, 1095),
                     ("非法集资参与组织", "Organising illegal fundraising", -250, 1825), ("虚假诉讼", "False litigation", -200, 1095),
                     ("虚假证明材料", "False certification documents", -150, 1095), ("环境违法（个人）", "Environmental offence by an individual", -100, 365)]:
    add(N, "penalty", zh, en, p, d)

# judicial: 12
add(N, "judicial", "失信被执行人", "Dishonest judgment debtor", -300, None, ["black"], ALL4 + ["public_employment"])
for zh, en, p, d, lst, r in [
        ("被执行人（个人）", "Judgment debtor, individual", -120, 730, [], []),
        ("限制高消费（个人）", "Restricted from high consumption, individual", -150, 730, [], ["financial_loan"]),
        ("限制出境", "Exit restriction", -150, 730, [], []),
        ("刑事判决（故意犯罪）", "Criminal conviction, intentional offence", -300, 1825, [], ["public_employment"]),
        ("刑事判决（过失犯罪）", "Criminal conviction, negligent offence", -150, 1095, [], []),
        ("拒不支付劳动报酬罪", "Convicted of refusing to pay wages", -400, 1825, ["black"], ALL4 + ["public_employment"]),
        ("拒不执行判决裁定罪（个人）", "Convicted of refusing to perform a judgment, individual", -400, 1825, ["black"], ALL4),
        ("民间借贷败诉未履行", "Private loan judgment not performed", -100, 730, [], []),
        ("司法拘留", "Judicial detention", -120, 730, [], []),
        ("赡养抚养判决未履行", "Maintenance judgment not performed", -120, 730, [], []),
        ("社区矫正", "Community correction", -150, 1095, [], ["public_employment"])]:
    add(N, "judicial", zh, en, p, d, lst, r)

# supervision: 20
add(N, "supervision", "因违纪违法被辞退或开除公职", "Dismissed from a public post for misconduct", -200, 1095, [], ["public_employment"])
for zh, en, p, d, lst, r in [
        ("公务员录用考试严重违纪", "Serious misconduct in civil service exams", -150, 1825, [], ["public_employment"]),
        ("事业单位招聘弄虚作假", "Fraud in public institution recruitment", -150, 1825, [], ["public_employment"]),
        ("党纪政务处分", "Party or administrative disciplinary sanction", -120, 730, [], ["public_employment"]),
        ("拖欠农民工工资责任人", "Person responsible for wage arrears", -200, 1095, ["black"], ALL4),
        ("重大税收违法案件当事人", "Party to a major tax violation", -250, 1095, ["black"], ALL4),
        ("严重违法失信企业法定代表人", "Legal representative of a seriously dishonest firm", -200, 1095, [], ALL4),
        ("安全生产失信责任人", "Person responsible for a work safety violation", -200, 1095, [], ALL4),
        ("执业资格吊销", "Professional licence revoked", -200, 1825, [], ["administrative_licensing"]),
        ("医保违规医师记分", "Physician medical insurance penalty points", -100, 365, [], []),
        ("教师师德失范", "Teacher ethics violation", -150, 1825, [], ["public_employment"]),
        ("网约车驾驶员服务质量不合格", "Ride-hailing driver service failure", -80, 365, [], []),
        ("交通运输从业人员黑名单", "Transport practitioners blacklist", -200, 1095, ["black"], ["administrative_licensing"]),
        ("食品从业禁止", "Barred from food trade", -200, 1825, [], ["administrative_licensing"]),
        ("证券市场禁入", "Securities market ban", -200, 1825, [], ["financial_loan"]),
        ("网格巡查违规经营警示", "Grid patrol trading violation warning", -80, 365, [], []),
        ("行政约谈（个人）", "Administrative interview, individual", -80, 365, [], []),
        ("考试作弊禁考", "Barred from examinations for cheating", -120, 1095, [], ["public_employment"]),
        ("志愿服务失信记录", "Volunteer service misconduct record", -80, 365, [], []),
        ("保障房违规使用", "Public housing misuse", -120, 730, [], [])]:
    add(N, "supervision", zh, en, p, d, lst, r)

# honor: 25
add(N, "honor", "志愿服务时长", "Volunteer service hours", 0, 365, per_unit={"points": 1, "cap": 60})
add(N, "honor", "星级志愿者或荣誉表彰", "Star volunteer or honour award", 100, 730, ["red"])
for zh, en, p, d, lst in [
        ("见义勇为", "Act of bravery", 100, 1095, ["red"]), ("全国道德模范", "National moral model", 100, 1825, ["red"]),
        ("劳动模范", "Model worker", 100, 1825, ["red"]), ("无偿献血奉献奖", "Blood donation award", 100, 1095, ["red"]),
        ("优秀共产党员表彰", "Outstanding party member commendation", 60, 730, []),
        ("三八红旗手", "March 8th red-banner woman", 60, 730, []), ("五四青年奖章", "May Fourth youth medal", 60, 730, []),
        ("优秀教师", "Outstanding teacher", 50, 730, []), ("优秀医生", "Outstanding physician", 50, 730, []),
        ("最美家庭", "Model family", 40, 730, []), ("好人好事表彰", "Good deed commendation", 30, 365, []),
        ("无偿献血", "Blood donation", 20, 365, []), ("造血干细胞捐献", "Stem cell donation", 100, 1825, ["red"]),
        ("器官捐献登记", "Organ donor registration", 20, None, []), ("慈善捐赠（个人）", "Personal charitable donation", 20, 365, []),
        ("垃圾分类示范户", "Waste sorting model household", 10, 365, []),
        ("网格员优秀表彰", "Outstanding grid worker", 30, 365, []), ("退役军人立功", "Veteran with merit citation", 50, 1825, []),
        ("社区治理贡献表彰", "Community governance contribution", 30, 365, []), ("优秀社工", "Outstanding social worker", 30, 730, []),
        ("技能大赛获奖", "Skills competition prize", 30, 1095, []), ("科技创新奖（个人）", "Personal innovation award", 50, 1095, []),
        ("诚信个人示范", "Personal integrity model", 100, 730, ["red"])]:
    add(N, "honor", zh, en, p, d, lst)

# other: 16
add(N, "other", "电信或水电气费欠缴", "Telecom or utility arrears", -20, 365)
for zh, en, p, d in [("物业费欠缴（个人）", "Personal property fee arrears", -15, 365), ("个人贷款逾期", "Personal loan overdue", -50, 730),
                     ("信用卡严重逾期", "Credit card seriously overdue", -50, 730), ("助学贷款逾期", "Student loan overdue", -40, 730),
                     ("公积金贷款逾期", "Housing fund loan overdue", -50, 730), ("公共租赁住房租金欠缴", "Public rental housing rent arrears", -30, 365),
                     ("停车费欠缴", "Parking fee arrears", -10, 365), ("图书馆借阅逾期未还", "Library loan long overdue", -5, 365),
                     ("共享单车违规停放", "Dockless bike parking violation", -5, 365), ("个人信用承诺履约", "Personal commitment kept", 10, 365),
                     ("个人信用承诺未履约", "Personal commitment broken", -40, 730), ("信用评级机构个人负面评级", "Negative personal credit rating", -30, 365),
                     ("12345热线恶意投诉", "Malicious 12345 hotline complaints", -20, 365), ("医疗费用欠缴", "Hospital bill arrears", -20, 365),
                     ("税款滞纳（个人）", "Personal tax payment overdue", -30, 365)]:
    add(N, "other", zh, en, p, d)

# ---------------------------------------------------------------- output
def q(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'

counters = {}
print("# The Bao'an catalogue: 453 items (300 legal, 153 natural) in seven categories.")
print("# Generated by models/tools/gen_baoan_items.py; edit the script, not this file.")
for it in items:
    pre = "L" if it["kind"] == "legal" else "N"
    k = (pre, it["category"])
    counters[k] = counters.get(k, 0) + 1
    code = f"{pre}-{CAT[it['category']]}-{counters[k]:03d}"
    print()
    print("[[items]]")
    print(f"code = {q(code)}")
    print(f"kind = {q(it['kind'])}")
    print(f"category = {q(it['category'])}")
    print(f"name_zh = {q(it['name_zh'])}")
    print(f"name_en = {q(it['name_en'])}")
    print(f"points = {it['points']}")
    if it["effect_days"] is not None:
        print(f"effect_days = {it['effect_days']}")
    if it["per_unit"]:
        print(f"per_unit = {{ points = {it['per_unit']['points']}, cap = {it['per_unit']['cap']} }}")
    if it["lists"]:
        print("lists = [" + ", ".join(q(x) for x in it["lists"]) + "]")
    if it["restricts"]:
        print("restricts = [" + ", ".join(q(x) for x in it["restricts"]) + "]")

import sys
nl = sum(1 for i in items if i["kind"] == "legal")
nn = len(items) - nl
assert (nl, nn) == (300, 153), (nl, nn)
names = [(i["kind"], i["name_en"]) for i in items] 
assert len(set(names)) == len(names), [n for n in names if names.count(n) > 1]
names = [(i["kind"], i["name_zh"]) for i in items]
assert len(set(names)) == len(names), [n for n in names if names.count(n) > 1]
for (pre, cat), n in sorted(counters.items()):
    print(f"{pre} {cat}: {n}", file=sys.stderr)
